import { afterEach, describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions, createKpiEngine } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { DAY, Fixture, HOUR, MARCH_1, MIN, silentLog, testConfig } from './fixtures.js';
import { TRANSPORT_DEVICES, transportDay } from './transport-data.js';

/** Event KPIs equal ground truth exactly when nothing was lost; open starts; late and out-of-order events. */

const DAY1 = windowAt('day', MARCH_1, 'Asia/Shanghai');
let fx: Fixture | undefined;
afterEach(() => fx?.close());

function compute(f: Fixture, now: number, names?: string[]) {
  const pass = new KpiPass(f.store.kpiReads(), now, calculatorOptions(testConfig()));
  return new Map(pass.compute(DAY1, { site: true }, names).map((r) => [r.kpi, r]));
}

describe('event KPIs against ground truth', () => {
  it('p95 times, shares within 5 and 30 minutes and counts are exact', () => {
    const day = transportDay(MARCH_1);
    fx = new Fixture(TRANSPORT_DEVICES);
    fx.write(day.readings, day.events);
    const rows = compute(fx, MARCH_1 + 2 * DAY);
    for (const [kpi, want] of Object.entries(day.truth)) {
      if (kpi === 'open_retrievals') continue;
      expect(rows.get(kpi)?.value, kpi).toBe(want);
      expect(rows.get(kpi)?.coverage, `${kpi} coverage`).toBeGreaterThan(0.99);
    }
    expect(rows.get('car_retrieval_time_p95')?.open).toBe(day.truth['open_retrievals']);
    expect(rows.get('car_retrieval_time_p95')?.series).toContain('garage-1/spaces_free');
  });

  it('the same events written out of order give the same KPIs', () => {
    const day = transportDay(MARCH_1, 11);
    fx = new Fixture(TRANSPORT_DEVICES);
    fx.write([...day.readings].reverse(), []);
    for (let i = day.events.length; i > 0; i -= 97) fx.write([], day.events.slice(Math.max(0, i - 97), i).reverse());
    const rows = compute(fx, MARCH_1 + 2 * DAY);
    expect(rows.get('car_retrieval_time_p95')?.value).toBe(day.truth['car_retrieval_time_p95']);
    expect(rows.get('parcel_within_30min')?.value).toBe(day.truth['parcel_within_30min']);
    expect(rows.get('parking_occupancy')?.value).toBe(day.truth['parking_occupancy']);
  });
});

describe('unmatched starts', () => {
  it('are open while the window runs (pending unless past the promise) and count against it once it closes', () => {
    fx = new Fixture(TRANSPORT_DEVICES);
    const t0 = MARCH_1 + 10 * HOUR;
    fx.write(
      [{ device: 'garage-1', metric: 'spaces_free', value: 10, ts: MARCH_1 }, ...Array.from({ length: 24 * 60 }, (_, i) => ({ device: 'garage-1', metric: 'spaces_free', value: 10, ts: MARCH_1 + i * MIN }))],
      [
        ...[0, 1, 2, 3].flatMap((i) => [
          { device: 'garage-1', type: 'retrieval_requested', ts: t0 + i * MIN, attributes: { vehicle: `v${i}`, request_id: `r${i}` } },
          { device: 'garage-1', type: 'retrieval_completed', ts: t0 + i * MIN + 120_000, attributes: { vehicle: `v${i}`, request_id: `r${i}` } },
        ]),
        { device: 'garage-1', type: 'retrieval_requested', ts: t0 + 10 * MIN, attributes: { vehicle: 'late', request_id: 'old' } },
        { device: 'garage-1', type: 'retrieval_requested', ts: t0 + 30 * MIN, attributes: { vehicle: 'young', request_id: 'young' } },
      ],
    );
    const running = compute(fx, t0 + 32 * MIN, ['car_retrieval_within_5min', 'car_retrieval_time_p95']);
    // "old" is 22 minutes open: a certain failure; "young" is 2 minutes old: pending, left out.
    expect(running.get('car_retrieval_within_5min')?.value).toBe(4 / 5);
    expect(running.get('car_retrieval_within_5min')?.open).toBe(2);
    expect(running.get('car_retrieval_within_5min')?.detail).toMatchObject({ open_counted: 1, completed: 4 });

    const closed = compute(fx, MARCH_1 + DAY + 5 * MIN, ['car_retrieval_within_5min', 'car_retrieval_time_p95']);
    expect(closed.get('car_retrieval_within_5min')?.value).toBe(4 / 6);
    expect(closed.get('car_retrieval_time_p95')?.value).toBeNull();
    expect(closed.get('car_retrieval_time_p95')?.beyond).toBe(true);

    const engine = createKpiEngine({
      config: testConfig({ targets: [{ kpi: 'car_retrieval_time_p95', window: 'day', max: 300 }] }),
      store: fx.store,
      clock: new ManualClock(MARCH_1 + DAY + 5 * MIN),
      log: silentLog,
    });
    const row = engine.kpis('day', MARCH_1).find((r) => r.kpi === 'car_retrieval_time_p95');
    expect(row).toMatchObject({ status: 'missed', value: null, beyond: true, open: 2 });
  });
});
