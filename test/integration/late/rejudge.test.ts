import { afterAll, describe, expect, it } from 'vitest';
import { createKpiEngine } from '../../../gateway/kpi/index.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { EventReading } from '../../../gateway/model/types.js';
import { DAY, Fixture, HOUR, MARCH_1, MIN, silentLog, testConfig } from '../kpi/fixtures.js';

/**
 * A completion pairs with its request by key wherever the two fall: a car asked for at 23:58 and
 * handed over at 00:01, the hand-over reported late (the second bay's report reached the gateway
 * after the day closed). It lands in the new day, yet it is the closed day's verdict that depends
 * on it: that day is judged again, and the alert history says the verdict changed because late
 * data arrived. A completion stored before its request pairs when the request arrives.
 */

const fx = new Fixture([{ id: 'garage-1', class: 'parking_garage' }]);
afterAll(() => fx.close());

const ev = (i: number, type: 'retrieval_requested' | 'retrieval_completed', ts: number): EventReading => ({ device: 'garage-1', type, ts, attributes: { vehicle: `浙A${i}`, request_id: `r-${i}` } });
const starts = [...Array.from({ length: 9 }, (_, i) => MARCH_1 + 8 * HOUR + i * HOUR), MARCH_1 + DAY - 10 * MIN];
const alive = Array.from({ length: 3 * 24 * 60 }, (_, i) => ({ device: 'garage-1', metric: 'spaces_free', value: 40, ts: MARCH_1 - HOUR + i * MIN }));
fx.write(alive, [...starts.slice(0, 9).map((t, i) => ev(i, 'retrieval_requested', t)), ...starts.slice(0, 9).map((t, i) => ev(i, 'retrieval_completed', t + 2 * MIN))]);

const clock = new ManualClock(MARCH_1 + 12 * HOUR);
const engine = createKpiEngine({ config: testConfig({ targets: [{ kpi: 'car_retrieval_within_5min', window: 'day', min: 0.95 }] }), store: fx.store, clock, log: silentLog });

describe('late data: pairing across windows and arrival order', () => {
  it('a completion stored before its request pairs when the request arrives', () => {
    engine.evaluate();
    // A hand-over at 23:50 whose completion is stored first, then (out of order) its request.
    fx.write([], [ev(9, 'retrieval_completed', starts[9] as number)]);
    fx.write([], [ev(9, 'retrieval_requested', starts[9] as number)]);
    clock.set(MARCH_1 + DAY - 3 * MIN);
    engine.evaluate();
    expect(engine.kpis('day').find((r) => r.target)).toMatchObject({ value: 1 });
  });

  it('the day closes with one hand-over unreported: missed', () => {
    fx.write([], [ev(10, 'retrieval_requested', MARCH_1 + DAY - 2 * MIN)]);
    clock.set(MARCH_1 + DAY + MIN);
    engine.evaluate();
    const [a] = engine.alerts();
    expect(a).toMatchObject({ status: 'missed', window_start: '2024-03-01T00:00:00+08:00', value: 10 / 11 });
  });

  it('its completion, in the next day and late, re-judges the closed day: met, revised by late data', () => {
    fx.write([], [ev(10, 'retrieval_completed', MARCH_1 + DAY + MIN)]);
    clock.set(MARCH_1 + DAY + 10 * MIN);
    engine.evaluate();
    const [revised] = engine.alerts();
    expect(revised).toMatchObject({ status: 'met', revised: true, previous: 'missed', value: 1, window_start: '2024-03-01T00:00:00+08:00' });
    expect(revised?.message).toMatch(/revised by late data/);
    expect(engine.kpis('day', MARCH_1 + HOUR).find((r) => r.target)).toMatchObject({ value: 1, status: 'met', closed: true });
  });
});
