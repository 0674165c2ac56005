import { describe, expect, it } from 'vitest';
import { modbusProfile } from '../../integration/modbus/harness.js';
import { goldenFiles, runCase } from './run-golden.js';

describe('Modbus profile golden cases (register image → readings)', () => {
  for (const g of goldenFiles()) {
    it(`${g.file}: ${g.cases.length} cases`, async () => {
      expect(g.file).toBe(`${g.profile}.yaml`);
      for (const c of g.cases) expect(await runCase(modbusProfile(g.profile), c), `${g.file} › ${c.name}`).toEqual(c.readings);
    });
  }
});
