import { describeGolden } from '../run-golden.js';

/** Recorded exchanges replayed byte for byte (drivers/core/golden-bus.ts) → readings. */
describeGolden('DL/T 645 and CJ/T 188 golden cases (recorded exchanges → readings)', import.meta.dirname);
