import { afterAll, describe, expect, it } from 'vitest';
import { createKpiEngine } from '../../../gateway/kpi/index.js';
import { KpiStateDb } from '../../../gateway/kpi/state-db.js';
import { targetKey } from '../../../gateway/kpi/targets.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { EventReading } from '../../../gateway/model/types.js';
import { communityReadings, DEVICES, truth } from './community.js';
import { DAY, Fixture, HOUR, MARCH_1, MIN, silentLog, testConfig } from './fixtures.js';

/** A closed window is judged when it closes, and judged again when late data falls into it. */

const fx = new Fixture([{ id: 'garage-1', class: 'parking_garage' }]);
afterAll(() => fx.close());

const retrieval = (i: number, type: 'retrieval_requested' | 'retrieval_completed', ts: number): EventReading => ({
  device: 'garage-1',
  type,
  ts,
  attributes: { vehicle: `浙A${i}`, request_id: `r-${i}` },
});

const starts = Array.from({ length: 20 }, (_, i) => MARCH_1 + 8 * HOUR + i * 30 * MIN);
const completions = starts.map((t, i) => retrieval(i, 'retrieval_completed', t + 2 * MIN));
const late = completions.slice(18);
const alive = Array.from({ length: 3 * 24 * 60 }, (_, i) => ({ device: 'garage-1', metric: 'spaces_free', value: 40, ts: MARCH_1 - HOUR + i * MIN }));
fx.write(alive, [...starts.map((t, i) => retrieval(i, 'retrieval_requested', t)), ...completions.slice(0, 18)]);

const clock = new ManualClock(MARCH_1 + 12 * HOUR);
const engine = createKpiEngine({
  config: testConfig({ targets: [{ kpi: 'car_retrieval_within_5min', window: 'day', min: 0.95 }] }),
  store: fx.store,
  clock,
  log: silentLog,
});

describe('windows closing and late data', () => {
  it('while the day runs, the retrievals so far are all within 5 minutes', () => {
    engine.evaluate();
    expect(engine.alerts()).toEqual([]);
    expect(engine.kpis('day').find((r) => r.target)).toMatchObject({ value: 1, status: 'met' });
  });

  it('when the day closes, the two retrievals never completed count against it', () => {
    clock.set(MARCH_1 + DAY + MIN);
    engine.evaluate();
    const [a] = engine.alerts();
    expect(a).toMatchObject({ status: 'missed', active: true, window_start: '2024-03-01T00:00:00+08:00', value: 0.9 });
  });

  it('late completions re-judge the closed day: met, and its alert clears', () => {
    fx.write([], late);
    clock.set(MARCH_1 + DAY + 2 * MIN);
    engine.evaluate();
    const [revised, original] = engine.alerts();
    expect(revised).toMatchObject({ status: 'met', revised: true, active: false, previous: 'missed', value: 1 });
    expect(original).toMatchObject({ status: 'met', active: false });
    expect(original?.cleared_at).toBeDefined();
    expect(engine.kpis('day', MARCH_1 + HOUR).find((r) => r.target)).toMatchObject({ value: 1, status: 'met', closed: true });
  });

  it('late data that changes nothing raises nothing', () => {
    fx.write([{ device: 'garage-1', metric: 'spaces_free', value: 41, ts: MARCH_1 + 3 * HOUR + 30_000 }]);
    clock.set(MARCH_1 + DAY + 3 * MIN);
    engine.evaluate();
    expect(engine.alerts()).toHaveLength(2);
  });
});

describe('late and out-of-order samples', () => {
  it('a meter’s buffered hours arriving after the day closed, newest first, turn its unknown verdict into met', () => {
    const f = new Fixture(DEVICES);
    try {
      // The master water meter's link is down 08:00–17:00; the meter keeps its readings and
      // hands them over after midnight, newest first.
      const down = (t: number) => t >= MARCH_1 + 8 * HOUR && t < MARCH_1 + 17 * HOUR;
      const all = communityReadings(MARCH_1 - HOUR, MARCH_1 + DAY + HOUR);
      const held = all.filter((r) => r.device === 'wm-main' && down(r.ts));
      f.write(all.filter((r) => !(r.device === 'wm-main' && down(r.ts))));
      const target = { kpi: 'water_loss_ratio', window: 'day' as const, max: 0.1 };
      const c = new ManualClock(MARCH_1 + 7 * HOUR);
      const e = createKpiEngine({ config: testConfig({ targets: [target] }), store: f.store, clock: c, log: silentLog });
      const verdict = () => new KpiStateDb(f.store).window(targetKey({ ...target, scope: { site: true } }), MARCH_1);

      e.evaluate();
      expect(e.kpis('day').find((r) => r.target)).toMatchObject({ status: 'met' });
      c.set(MARCH_1 + 12 * HOUR);
      e.evaluate();
      expect(e.alerts()[0]).toMatchObject({ status: 'unknown', reason: 'low_coverage', active: true });
      c.set(MARCH_1 + DAY + 5 * MIN);
      e.evaluate();
      // Closed without nine hours of its master meter: unknown, never a confident number.
      expect(verdict()).toMatchObject({ status: 'unknown', final: true });
      expect(verdict()?.coverage).toBeCloseTo(15 / 24, 1);

      f.write([...held].reverse());
      c.set(MARCH_1 + DAY + 10 * MIN);
      e.evaluate();
      const want = truth(MARCH_1, MARCH_1 + DAY).water_loss_ratio as number;
      expect(verdict()).toMatchObject({ status: 'met', final: true });
      expect(verdict()?.coverage).toBeGreaterThan(0.99);
      expect(Math.abs((verdict()?.value as number) - want)).toBeLessThan(want * 0.005);
      const row = e.kpis('day', MARCH_1 + HOUR).find((r) => r.target);
      expect(row).toMatchObject({ status: 'met', closed: true });
      // From unknown to met is no news: no `revised` alert; no alert is left active.
      expect(e.alerts().filter((a) => a.revised)).toEqual([]);
      expect(e.alerts().filter((a) => a.active)).toEqual([]);
    } finally {
      f.close();
    }
  });
});
