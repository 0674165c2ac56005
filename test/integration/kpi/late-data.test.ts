import { afterAll, describe, expect, it } from 'vitest';
import { createKpiEngine } from '../../../gateway/kpi/index.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { EventReading } from '../../../gateway/model/types.js';
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
