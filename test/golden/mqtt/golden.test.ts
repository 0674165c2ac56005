import { describe, expect, it } from 'vitest';
import { mqttProfiles } from '../../integration/mqtt/harness.js';
import { goldenFiles, runGolden } from './run-golden.js';

describe('MQTT profile golden cases (raw input → readings and events)', () => {
  for (const g of goldenFiles()) {
    it(`${g.file}: ${g.cases.length} cases`, () => {
      for (const r of runGolden(g, mqttProfiles())) expect(r.got, `${g.file} › ${r.name}`).toEqual(r.want);
    });
  }
});
