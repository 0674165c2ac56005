import { describeGolden } from '../run-golden.js';
import { GOLDEN_DIR } from './run-golden.js';

describeGolden('MQTT profile golden cases (raw input → readings and events, samples)', GOLDEN_DIR);
