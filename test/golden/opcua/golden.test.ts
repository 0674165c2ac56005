import { describeGolden } from '../run-golden.js';

describeGolden('OPC UA profile golden cases (DataValue → sample through the normaliser)', import.meta.dirname);
