import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpiPass, type KpiResult } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { KpiStateDb } from '../../../gateway/kpi/state-db.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { updateRollups } from '../../../gateway/store/maintenance.js';
import { communityReadings, DEVICES, flows, truth } from './community.js';
import { counterReadings, DAY, Fixture, HOUR, integrate, MARCH_1, MIN, testConfig } from './fixtures.js';

/**
 * A month of 1-minute data: the month KPIs from hourly rollups agree with ground truth and
 * with the raw computation, including a counter reset and a rollover inside the month.
 */

const APRIL_1 = Date.parse('2024-04-01T00:00:00+08:00');
const RESET_AT = MARCH_1 + 9 * DAY + 13 * HOUR + 7 * MIN;
let fx: Fixture;
let month: ReturnType<typeof windowAt>;
const now = APRIL_1 + DAY;
const cfg = testConfig();

function computeAll(): { rows: Map<string, KpiResult>; ms: number; scoped: (device: string) => KpiResult | undefined } {
  const t0 = performance.now();
  const pass = new KpiPass(fx.store.kpiReads(), now, calculatorOptions(cfg));
  const rows = new Map(pass.compute(month, { site: true }).map((r) => [r.kpi, r]));
  const ms = performance.now() - t0;
  return { rows, ms, scoped: (device) => pass.compute(month, { device }, ['grid_import'])[0] };
}

beforeAll(() => {
  fx = new Fixture([...DEVICES, { id: 'sub-reset', class: 'grid_meter', tags: { role: 'sub' } }, { id: 'sub-wrap', class: 'grid_meter', tags: { role: 'sub' } }]);
  const from = MARCH_1 - HOUR;
  const to = APRIL_1 + HOUR;
  // Five-minute samples keep this file quick; test/bench/kpi.ts runs a month of 1-minute data for 500 series.
  fx.write(communityReadings(from, to, { jitterMs: 3000, everyMs: 5 * MIN }));
  // A firmware reset: from RESET_AT on the counter restarts near zero.
  const reset = counterReadings('sub-reset', 'import_total', flows.pv1, from, to, { seed: 21, start: 3_000_000, resolution: 10, everyMs: 5 * MIN });
  // (Not within 10 % below a register limit, or the pipeline would take it for a wrap.)
  const before = 3_000_000 + integrate(flows.pv1, from, RESET_AT, 10_000);
  for (const r of reset) if (r.ts >= RESET_AT) r.value = (r.value as number) - before;
  // A counter that wraps at 1e9 Wh during the month (the pipeline flags counter_rollover).
  const wrap = counterReadings('sub-wrap', 'import_total', flows.pv1, from, to, { seed: 22, start: 999_000_000, resolution: 10, everyMs: 5 * MIN });
  for (const r of wrap) r.value = (r.value as number) % 1e9;
  fx.write([...reset, ...wrap]);
  month = windowAt('month', MARCH_1 + 10 * DAY, 'Asia/Shanghai');
}, 60_000);
afterAll(() => fx.close());

describe('a month from raw samples and from rollups', () => {
  const expected = truth(MARCH_1, APRIL_1, { stepMs: 10_000 });
  let raw: ReturnType<typeof computeAll>;
  let rolled: ReturnType<typeof computeAll>;
  let flagged: ReturnType<typeof computeAll>;

  // Each pass three times, the fastest kept: one stall of a shared machine (a clean-clone CI run
  // once measured the rollups at 705 ms against 395 ms raw) must not decide which read is cheaper.
  const fastest = () => [computeAll(), computeAll(), computeAll()].reduce((a, b) => (b.ms < a.ms ? b : a));
  beforeAll(() => {
    raw = fastest(); // no rollup consumer has run: everything is read raw
    updateRollups(fx.store, 5_000_000);
    rolled = fastest(); // drops between hours found by comparing neighbouring hours
    new KpiStateDb(fx.store); // as the engine does: the partial index on flagged samples
    flagged = fastest();
  }, 60_000);

  it('the month is the local month', () => {
    expect(month.end - month.start).toBe(31 * DAY);
    expect(month.start).toBe(MARCH_1);
  });

  it.each(Object.keys(truth(MARCH_1, MARCH_1 + HOUR)))('%s within 0.5 % of ground truth, both ways', (kpi) => {
    const want = expected[kpi] as number;
    for (const r of [raw, rolled, flagged]) {
      const got = r.rows.get(kpi);
      expect(Math.abs((got?.value as number) - want), `${kpi}: ${got?.value} vs ${want}`).toBeLessThanOrEqual(Math.abs(want) * 0.005);
      expect(got?.coverage, `${kpi} coverage (${r === raw ? 'raw' : r === rolled ? 'rollups' : 'rollups + flags'})`).toBeGreaterThan(0.99);
    }
  });

  it('a counter reset mid-month loses only the step it happened in, never goes negative', () => {
    const want = integrate(flows.pv1, MARCH_1, APRIL_1, 10_000);
    for (const r of [raw, rolled, flagged]) {
      const got = r.scoped('sub-reset')?.value as number;
      expect(got).toBeLessThanOrEqual(want * 1.0001);
      expect(got).toBeGreaterThan(want * 0.995);
    }
  });

  it('a rollover mid-month adds wrap − last + new', () => {
    const want = integrate(flows.pv1, MARCH_1, APRIL_1, 10_000);
    for (const r of [raw, rolled, flagged]) expect(Math.abs((r.scoped('sub-wrap')?.value as number) - want)).toBeLessThanOrEqual(want * 0.005);
  });

  it('rollups make the month cheaper to read', () => {
    expect(rolled.ms).toBeLessThan(raw.ms);
    expect(flagged.ms).toBeLessThan(raw.ms);
  });
});
