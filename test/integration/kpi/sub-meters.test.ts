import { describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { counterReadings, DAY, Fixture, HOUR, MARCH_1, testConfig } from './fixtures.js';

/**
 * Household meters (DL/T 645 on a bus, `role: sub`) sit behind the community's connection meter,
 * which is not tagged master (the energy station has a connection of its own): they must not be
 * added to the community's import, and they are a building's total in that building's scope.
 */
describe('sub-meters beside a connection meter that is not a master', () => {
  it('the site import is the connection meters only; a building scope is its sub-meters', () => {
    const f = new Fixture([
      { id: 'grid-main', class: 'grid_meter', tags: { role: 'community' } },
      { id: 'station', class: 'grid_meter', tags: { role: 'station' } },
      { id: 'em-101', class: 'grid_meter', tags: { role: 'sub', building: '1' } },
      { id: 'em-102', class: 'grid_meter', tags: { role: 'sub', building: '1' } },
    ]);
    try {
      const span = [MARCH_1 - HOUR, MARCH_1 + DAY + HOUR] as const;
      f.write([
        ...counterReadings('grid-main', 'import_total', () => 50_000, ...span, { start: 1e6, resolution: 10 }),
        ...counterReadings('station', 'import_total', () => 20_000, ...span, { start: 1e5, resolution: 10 }),
        ...counterReadings('em-101', 'import_total', () => 800, ...span, { start: 7e4, resolution: 10 }),
        ...counterReadings('em-102', 'import_total', () => 1200, ...span, { start: 9e4, resolution: 10 }),
      ]);
      const pass = new KpiPass(f.store.kpiReads(), MARCH_1 + 2 * DAY, calculatorOptions(testConfig()));
      const day = windowAt('day', MARCH_1, 'Asia/Shanghai');
      const [site] = pass.compute(day, { site: true }, ['grid_import']);
      expect(site?.series).toEqual(['grid-main/import_total', 'station/import_total']);
      expect(site?.value).toBeCloseTo(70_000 * 24, -2);
      const [b1] = pass.compute(day, { tag: 'building', value: '1' }, ['grid_import']);
      expect(b1?.series).toEqual(['em-101/import_total', 'em-102/import_total']);
      expect(b1?.value).toBeCloseTo(2000 * 24, -2);
    } finally {
      f.close();
    }
  });
});
