import { afterEach, describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions, createKpiEngine } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { communityReadings, DEVICES, flows } from './community.js';
import { counterReadings, DAY, Fixture, HOUR, integrate, MARCH_1, MIN, silentLog, testConfig } from './fixtures.js';

/** Energy edge cases, each on its own, against exact ground truth. */

const TZ = 'Asia/Shanghai';
const DAY1 = windowAt('day', MARCH_1, TZ);
let fx: Fixture | undefined;
afterEach(() => fx?.close());

function one(f: Fixture, kpi: string, device: string | undefined, w = DAY1, now = MARCH_1 + 3 * DAY, wrapOf?: (d: string, m: string) => number | undefined) {
  const pass = new KpiPass(f.store.kpiReads(), now, calculatorOptions(testConfig(), wrapOf));
  const [r] = pass.compute(w, device ? { device } : { site: true }, [kpi]);
  if (!r) throw new Error(`no ${kpi}`);
  return r;
}

const pvTruth = integrate(flows.pv1, MARCH_1, MARCH_1 + DAY);
const near = (got: number | null, want: number, tol = 0.005) => expect(Math.abs((got as number) - want), `${got} vs ${want}`).toBeLessThanOrEqual(Math.abs(want) * tol);

describe('energy edge cases', () => {
  it('a counter reset mid-window: a new baseline, never a negative delta', () => {
    fx = new Fixture([{ id: 'pv-1', class: 'pv_inverter' }]);
    const readings = counterReadings('pv-1', 'energy_total', flows.pv1, MARCH_1 - HOUR, MARCH_1 + DAY + HOUR, { start: 5_000_000, jitterMs: 5000 });
    const at = MARCH_1 + 12 * HOUR + 3 * MIN;
    const offset = (readings.find((r) => r.ts >= at)?.value as number) - 40;
    for (const r of readings) if (r.ts >= at) r.value = (r.value as number) - offset;
    fx.write(readings);
    const r = one(fx, 'pv_generation', 'pv-1');
    // Only the one-minute step into the reset is unknown (about 0.1 % of a sunny day).
    expect(r.value as number).toBeLessThanOrEqual(pvTruth);
    near(r.value, pvTruth);
    expect(r.coverage).toBeGreaterThan(0.99);
    expect(r.coverage).toBeLessThan(1);
  });

  it('a meter swapped: the new meter starts low after a 40-minute pause', () => {
    fx = new Fixture([{ id: 'grid-main', class: 'grid_meter' }]);
    const swapFrom = MARCH_1 + 9 * HOUR;
    const swapTo = swapFrom + 40 * MIN;
    const old = counterReadings('grid-main', 'import_total', flows.imp, MARCH_1 - HOUR, swapFrom, { start: 412_345_670, seed: 3 });
    const fresh = counterReadings('grid-main', 'import_total', flows.imp, swapTo, MARCH_1 + DAY + HOUR, { start: 12, seed: 4 });
    fx.write([...old, ...fresh]);
    const r = one(fx, 'grid_import', undefined);
    const truthDay = integrate(flows.imp, MARCH_1, MARCH_1 + DAY);
    const lost = integrate(flows.imp, swapFrom - MIN, swapTo);
    near(r.value, truthDay - lost);
    expect(r.coverage).toBeCloseTo(1 - 41 / 1440, 2);
  });

  it('a rollover at a declared register maximum adds max − last + new', () => {
    fx = new Fixture([{ id: 'pv-1', class: 'pv_inverter' }]);
    const wrap = 65_536_000; // a 16-bit kWh register, in Wh
    fx.wraps.set('pv-1/energy_total', wrap);
    const readings = counterReadings('pv-1', 'energy_total', flows.pv1, MARCH_1 - HOUR, MARCH_1 + DAY + HOUR, { start: wrap - 150_000 });
    for (const r of readings) r.value = (r.value as number) % wrap;
    fx.write(readings);
    const declared = one(fx, 'pv_generation', 'pv-1', DAY1, MARCH_1 + 3 * DAY, (d, m) => (d === 'pv-1' && m === 'energy_total' ? wrap : undefined));
    near(declared.value, pvTruth);
    expect(declared.coverage).toBeGreaterThan(0.99);
  });

  it('a rollover at a common register limit, undeclared, is recognised by the pipeline’s rule', () => {
    fx = new Fixture([{ id: 'pv-1', class: 'pv_inverter' }]);
    const wrap = 1e9; // a 9-digit Wh register
    const readings = counterReadings('pv-1', 'energy_total', flows.pv1, MARCH_1 - HOUR, MARCH_1 + DAY + HOUR, { start: wrap - 150_000 });
    for (const r of readings) r.value = (r.value as number) % wrap;
    fx.write(readings);
    const r = one(fx, 'pv_generation', 'pv-1');
    near(r.value, pvTruth);
    expect(r.coverage).toBeGreaterThan(0.99);
  });

  it('a device offline for hours: coverage falls and the target is unknown, the counter still bridges the energy', () => {
    const offline = (t: number) => t >= MARCH_1 + 8 * HOUR && t < MARCH_1 + 15 * HOUR;
    fx = new Fixture(DEVICES);
    fx.write(communityReadings(MARCH_1 - HOUR, MARCH_1 + DAY + HOUR, { skip: { device: 'pv-1', when: offline } }));
    const pv1 = one(fx, 'pv_generation', 'pv-1');
    near(pv1.value, pvTruth);
    expect(pv1.coverage).toBeCloseTo(17 / 24, 2);
    const engine = createKpiEngine({
      config: testConfig({ targets: [{ kpi: 'self_consumption', window: 'day', min: 0.5 }] }),
      store: fx.store,
      clock: new ManualClock(MARCH_1 + 3 * DAY),
      log: silentLog,
    });
    const row = engine.kpis('day', MARCH_1).find((x) => x.kpi === 'self_consumption');
    expect(row?.coverage).toBeLessThan(0.9);
    expect(row?.status).toBe('unknown');
    expect(row?.reason).toBe('low_coverage');
  });

  it('a window with no good input at all: every KPI is unknown (null), never 0', () => {
    fx = new Fixture(DEVICES);
    // Data on 1 March only; a day before the gateway existed has none.
    fx.write(communityReadings(MARCH_1, MARCH_1 + DAY));
    const engine = createKpiEngine({ config: testConfig(), store: fx.store, clock: new ManualClock(MARCH_1 + 3 * DAY), log: silentLog });
    const before = engine.kpis('day', MARCH_1 - 2 * DAY);
    expect(before.length).toBeGreaterThan(20);
    for (const r of before) {
      expect(r.coverage, r.kpi).toBe(0);
      expect(r.value, r.kpi).toBeNull();
    }
    // The day with data has values (sums included), so the rule is about coverage, not sums.
    const day = engine.kpis('day', MARCH_1 + 12 * HOUR);
    expect(day.find((r) => r.kpi === 'pv_generation')?.value).toBeGreaterThan(0);
  });

  it('a meter that reports hourly by design is covered; silent for six hours it is not', () => {
    fx = new Fixture([{ id: 'wm-lora', class: 'water_meter', tags: { water_type: 'potable' } }]);
    const flow = (_t: number) => 0.8;
    const quiet = (t: number) => t >= MARCH_1 + 6 * HOUR && t < MARCH_1 + 12 * HOUR;
    fx.write(counterReadings('wm-lora', 'volume_total', flow, MARCH_1 - 2 * HOUR, MARCH_1 + DAY + 2 * HOUR, { everyMs: HOUR, start: 100, resolution: 0.001, skip: quiet }));
    const r = one(fx, 'water_per_capita', undefined);
    // 0.8 m³/h for 24 h = 19.2 m³ = 19,200 L for 200 residents: 96 L per person, bridged by the counter.
    near(r.value, 96);
    // The gap runs from the 05:00 report to the 12:00 one.
    expect(r.coverage).toBeCloseTo(1 - 7 / 24, 2);
  });

  it('power without a counter: an offline gap is not bridged, so the energy and the coverage both fall', () => {
    const offline = (t: number) => t >= MARCH_1 + 10 * HOUR && t < MARCH_1 + 13 * HOUR;
    fx = new Fixture(DEVICES);
    fx.write(communityReadings(MARCH_1 - HOUR, MARCH_1 + DAY + HOUR, { skip: { device: 'pv-2', when: offline } }));
    const r = one(fx, 'pv_generation', 'pv-2');
    const seen = integrate(flows.pv2, MARCH_1, MARCH_1 + 10 * HOUR - MIN) + integrate(flows.pv2, MARCH_1 + 13 * HOUR, MARCH_1 + DAY);
    near(r.value, seen);
    expect(r.coverage).toBeCloseTo(1 - (3 * 60 + 1) / 1440, 2);
  });

  it('local midnight and month boundaries in Asia/Shanghai split the energy exactly there', () => {
    fx = new Fixture([{ id: 'grid-main', class: 'grid_meter' }]);
    const feb29 = Date.parse('2024-02-29T00:00:00+08:00');
    // A different constant import on each local day, so a boundary in the wrong place shows.
    const perDay = (t: number) => (t < MARCH_1 ? 20_000 : t < MARCH_1 + DAY ? 50_000 : 10_000);
    const readings = counterReadings('grid-main', 'import_total', perDay, feb29 - HOUR, MARCH_1 + DAY + HOUR, { start: 1_000_000, jitterMs: 20_000 });
    fx.write(readings);
    const measured = (readings[readings.length - 1]?.value as number) - (readings[0]?.value as number);
    const now = MARCH_1 + 5 * DAY;
    const feb = one(fx, 'grid_import', undefined, windowAt('month', feb29, TZ), now);
    const mar = one(fx, 'grid_import', undefined, windowAt('month', MARCH_1, TZ), now);
    const d29 = one(fx, 'grid_import', undefined, windowAt('day', feb29 + HOUR, TZ), now);
    const d1 = one(fx, 'grid_import', undefined, windowAt('day', MARCH_1 + HOUR, TZ), now);
    near(d29.value, 20_000 * 24);
    near(d1.value, 50_000 * 24);
    // February holds only what was measured before 1 March 00:00 local (= 29 February 16:00 UTC).
    near(feb.value, 20_000 * 25);
    // Nothing is lost or counted twice at the boundary.
    expect((feb.value as number) + (mar.value as number)).toBeCloseTo(measured, 6);
  });
});
