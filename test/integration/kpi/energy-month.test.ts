import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KpiPass, type KpiResult } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
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

/** What a pass read: raw samples, and hours of rollups (summed inside SQLite or returned). */
interface Reads {
  raw: number;
  hours: number;
}

function computeAll(): { rows: Map<string, KpiResult>; reads: Reads; scoped: (device: string) => KpiResult | undefined } {
  const reads: Reads = { raw: 0, hours: 0 };
  const store = fx.store.kpiReads();
  // The store's reads, counted: which rows a pass takes, not how long a shared machine needs for
  // them (test/bench/kpi.ts times a month of 1-minute data for 500 series).
  const counted = new Proxy(store, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        const out = (v as (...a: unknown[]) => unknown).apply(target, args);
        if (prop === 'raw') reads.raw += (out as unknown[]).length;
        if (prop === 'hours' || prop === 'hoursAt') reads.hours += (out as unknown[]).length;
        if (prop === 'hourChain') reads.hours += (out as { hours: number }).hours;
        return out;
      };
    },
  });
  const pass = new KpiPass(counted, now, calculatorOptions(cfg));
  const rows = new Map(pass.compute(month, { site: true }).map((r) => [r.kpi, r]));
  return { rows, reads: { ...reads }, scoped: (device) => pass.compute(month, { device }, ['grid_import'])[0] };
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

  beforeAll(() => {
    raw = computeAll(); // no rollup consumer has run: everything is read raw
    updateRollups(fx.store, 5_000_000);
    rolled = computeAll(); // drops between hours found through the store's index on flagged samples
  }, 60_000);

  it('the month is the local month', () => {
    expect(month.end - month.start).toBe(31 * DAY);
    expect(month.start).toBe(MARCH_1);
  });

  it.each(Object.keys(truth(MARCH_1, MARCH_1 + HOUR)))('%s within 0.5 % of ground truth, both ways', (kpi) => {
    const want = expected[kpi] as number;
    for (const r of [raw, rolled]) {
      const got = r.rows.get(kpi);
      expect(Math.abs((got?.value as number) - want), `${kpi}: ${got?.value} vs ${want}`).toBeLessThanOrEqual(Math.abs(want) * 0.005);
      expect(got?.coverage, `${kpi} coverage (${r === raw ? 'raw' : r === rolled ? 'rollups' : 'rollups + flags'})`).toBeGreaterThan(0.99);
    }
  });

  it('a counter reset mid-month loses only the step it happened in, never goes negative', () => {
    const want = integrate(flows.pv1, MARCH_1, APRIL_1, 10_000);
    for (const r of [raw, rolled]) {
      const got = r.scoped('sub-reset')?.value as number;
      expect(got).toBeLessThanOrEqual(want * 1.0001);
      expect(got).toBeGreaterThan(want * 0.995);
    }
  });

  it('a rollover mid-month adds wrap − last + new', () => {
    const want = integrate(flows.pv1, MARCH_1, APRIL_1, 10_000);
    for (const r of [raw, rolled]) expect(Math.abs((r.scoped('sub-wrap')?.value as number) - want)).toBeLessThanOrEqual(want * 0.005);
  });

  it('rollups make the month cheaper to read: hourly buckets instead of nearly all raw samples', () => {
    console.log(`energy-month rows read: raw ${JSON.stringify(raw.reads)}, rollups ${JSON.stringify(rolled.reads)}`);
    expect(raw.reads.hours).toBe(0);
    expect(rolled.reads.hours).toBeGreaterThan(0);
    // 17,856 raw rows and 10,881 hours against 146,570 raw rows with this fixture (seeded).
    expect(rolled.reads.raw + rolled.reads.hours).toBeLessThan(raw.reads.raw / 4);
  });
});
