import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKpiEngine, type KpiEngine, type KpiRow } from '../../../gateway/kpi/index.js';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { community, flows, truth } from './community.js';
import { counterReadings, DAY, Fixture, HOUR, integrate, MARCH_1, silentLog, testConfig } from './fixtures.js';

/** Energy and water KPIs of one local day against exact ground truth (real store, real pipeline). */

let fx: Fixture;
let engine: KpiEngine;
const clock = new ManualClock(MARCH_1 + 2 * DAY);

beforeAll(() => {
  fx = community(MARCH_1 - 2 * HOUR, MARCH_1 + DAY + 2 * HOUR);
  engine = createKpiEngine({ config: testConfig(), store: fx.store, clock, log: silentLog });
});
afterAll(() => fx.close());

const byKpi = (rows: KpiRow[]) => new Map(rows.map((r) => [r.kpi, r]));

describe('energy KPIs over a closed day', () => {
  const expected = truth(MARCH_1, MARCH_1 + DAY);

  it.each(Object.keys(truth(MARCH_1, MARCH_1 + HOUR)))('%s within 0.5 % of ground truth', (kpi) => {
    const row = byKpi(engine.kpis('day', MARCH_1 + 5 * HOUR)).get(kpi);
    const want = expected[kpi] as number;
    expect(row?.value).not.toBeNull();
    expect(Math.abs((row?.value as number) - want)).toBeLessThanOrEqual(Math.abs(want) * 0.005);
    expect(row?.coverage).toBeGreaterThan(0.99);
    expect(row?.start).toBe('2024-03-01T00:00:00+08:00');
  });

  it('reports the series each KPI used (sub-meters left out of site totals)', () => {
    const rows = byKpi(engine.kpis('day', MARCH_1));
    expect(rows.get('pv_generation')?.series).toEqual(['pv-1/energy_total', 'pv-2/ac_power']);
    expect(rows.get('grid_import')?.series).toEqual(['grid-main/import_total']);
    expect(rows.get('water_loss_ratio')?.series).toEqual(['wm-main/volume_total', 'wm-a/volume_total', 'wm-b/volume_total']);
  });

  it('behind a master meter, an untagged building meter is not added to the total; other water types keep their own', () => {
    const f = new Fixture([
      { id: 'main', class: 'water_meter', tags: { water_type: 'potable', role: 'master' } },
      { id: 'b3', class: 'water_meter', tags: { water_type: 'potable', building: '3' } },
      { id: 'rec', class: 'water_meter', tags: { water_type: 'reclaimed' } },
    ]);
    try {
      const span = [MARCH_1 - HOUR, MARCH_1 + DAY + HOUR] as const;
      f.write([
        ...counterReadings('main', 'volume_total', () => 4, ...span, { start: 1000, resolution: 0.001 }),
        ...counterReadings('b3', 'volume_total', () => 1, ...span, { start: 500, resolution: 0.001 }),
        ...counterReadings('rec', 'volume_total', () => 0.5, ...span, { start: 80, resolution: 0.001 }),
      ]);
      const pass = new KpiPass(f.store.kpiReads(), MARCH_1 + 2 * DAY, calculatorOptions(testConfig()));
      const rows = new Map(pass.compute(windowAt('day', MARCH_1, 'Asia/Shanghai'), { site: true }, ['water_per_capita', 'non_traditional_water_ratio']).map((r) => [r.kpi, r]));
      // 4 m³/h through the master for 24 h, 200 residents: 480 L each, b3's 1 m³/h is part of it.
      expect(rows.get('water_per_capita')?.value).toBeCloseTo(480, 0);
      expect(rows.get('water_per_capita')?.series).toEqual(['main/volume_total']);
      expect(rows.get('non_traditional_water_ratio')?.value).toBeCloseTo(0.5 / 4.5, 3);
    } finally {
      f.close();
    }
  });

  it('peak demand is the highest 15-minute mean import', () => {
    const row = byKpi(engine.kpis('day', MARCH_1)).get('peak_demand');
    let peak = 0;
    for (let t = MARCH_1; t < MARCH_1 + DAY; t += 15 * 60_000) peak = Math.max(peak, integrate(flows.imp, t, t + 15 * 60_000) * 4);
    // Just before 18:00: the evening load is up, the sun is down and the battery has not started.
    expect(Math.abs((row?.value as number) - peak)).toBeLessThanOrEqual(peak * 0.005);
  });

  it('a window in progress covers what has elapsed', () => {
    const now = MARCH_1 + 13 * HOUR + 30 * 60_000;
    const c = new ManualClock(now);
    const e = createKpiEngine({ config: testConfig(), store: fx.store, clock: c, log: silentLog });
    const row = byKpi(e.kpis('day')).get('pv_generation');
    const want = truth(MARCH_1, now).pv_generation as number;
    expect(Math.abs((row?.value as number) - want)).toBeLessThanOrEqual(want * 0.005);
    expect(row?.coverage).toBeGreaterThan(0.99);
    expect(row?.closed).toBe(false);
  });

  it('scopes: one device, a group of devices by tag', () => {
    const pass = new KpiPass(fx.store.kpiReads(), clock.now(), calculatorOptions(testConfig()));
    const day = windowAt('day', MARCH_1, 'Asia/Shanghai');
    const [spf2] = pass.compute(day, { device: 'hp-2' }, ['heat_pump_spf']);
    expect(spf2?.value).toBeCloseTo(3.6, 3);
    expect(spf2?.series).toEqual(['hp-2/thermal_total', 'hp-2/electric_total']);
    // Building a: no master meter in that scope, so its sub-meter is the total.
    const [imp] = pass.compute(day, { tag: 'building', value: 'a' }, ['grid_import']);
    const want = integrate(flows.subA, MARCH_1, MARCH_1 + DAY);
    expect(Math.abs((imp?.value as number) - want)).toBeLessThanOrEqual(want * 0.005);
    // Residents are a site figure: per capita has no value for a building.
    const [wpc] = pass.compute(day, { tag: 'building', value: 'a' }, ['water_per_capita']);
    expect(wpc?.value).toBeNull();
  });
});
