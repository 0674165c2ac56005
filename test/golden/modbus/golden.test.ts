import { describeGolden } from '../run-golden.js';
import { GOLDEN_DIR } from './run-golden.js';

describeGolden('Modbus profile golden cases (register image → readings, samples)', GOLDEN_DIR);
