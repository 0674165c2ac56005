import { afterAll, describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import type { EventReading } from '../../../gateway/model/types.js';
import { Fixture, testConfig } from './fixtures.js';

/**
 * Event KPIs at local midnight and month boundaries in Asia/Shanghai (UTC+8): 2024-04-01 00:00
 * local is 2024-03-31 16:00 UTC, so a UTC-aligned window would put every event below in the
 * wrong day or month. A start belongs to the window it happened in; its completion may fall in
 * the next one.
 */

const TZ = 'Asia/Shanghai';
const at = (local: string) => Date.parse(`${local}+08:00`);
const fx = new Fixture([{ id: 'garage-1', class: 'parking_garage' }, { id: 'door-1', class: 'access_door' }]);
afterAll(() => fx.close());

const retrieval = (id: string, requested: string, completed?: string): EventReading[] => [
  { device: 'garage-1', type: 'retrieval_requested', ts: at(requested), attributes: { vehicle: `浙A${id}`, request_id: id } },
  ...(completed ? [{ device: 'garage-1', type: 'retrieval_completed', ts: at(completed), attributes: { vehicle: `浙A${id}`, request_id: id } }] : []),
];
const forced = (local: string): EventReading => ({ device: 'door-1', type: 'door_forced', ts: at(local), attributes: {} });

fx.write(
  [],
  [
    // 1 March 07:00 local is still 29 February in UTC.
    ...retrieval('mar-1', '2024-03-01T07:00:00.000', '2024-03-01T07:02:00.000'),
    // Requested before midnight, handed over after it (exactly 300 s: within the promise).
    ...retrieval('eve', '2024-03-31T23:58:00.000', '2024-04-01T00:03:00.000'),
    // Never completed: open, and once March has closed it counts against March.
    ...retrieval('stuck', '2024-03-31T23:59:30.000'),
    // On the stroke of midnight: April.
    ...retrieval('midnight', '2024-04-01T00:00:00.000', '2024-04-01T00:07:00.000'),
    ...retrieval('apr-1', '2024-04-01T02:00:00.000', '2024-04-01T02:01:00.000'),
    forced('2024-03-31T23:59:59.999'),
    forced('2024-04-01T00:00:00.000'),
    forced('2024-04-01T07:59:59.999'),
  ],
);

function kpis(window: 'day' | 'month', local: string, now: number) {
  const pass = new KpiPass(fx.store.kpiReads(), now, calculatorOptions(testConfig()));
  return new Map(pass.compute(windowAt(window, at(local), TZ), { site: true }, ['car_retrieval_within_5min', 'car_retrieval_time_p95', 'door_forced_count']).map((r) => [r.kpi, r]));
}

describe('midnight and month boundaries in Asia/Shanghai', () => {
  const later = at('2024-04-03T00:00:00.000');

  it('a day holds the starts of its local day, matched with completions after midnight', () => {
    const mar31 = kpis('day', '2024-03-31T12:00:00.000', later);
    expect(mar31.get('car_retrieval_within_5min')).toMatchObject({ value: 1 / 2, open: 1, start: at('2024-03-31T00:00:00.000'), end: at('2024-04-01T00:00:00.000') });
    expect(mar31.get('car_retrieval_within_5min')?.detail).toMatchObject({ completed: 1, open_counted: 1 });
    expect(mar31.get('door_forced_count')?.value).toBe(1);

    const apr1 = kpis('day', '2024-04-01T12:00:00.000', later);
    expect(apr1.get('car_retrieval_within_5min')).toMatchObject({ value: 1 / 2, open: 0 });
    expect(apr1.get('car_retrieval_time_p95')?.value).toBe(420);
    // The completion of "eve" falls in this day but its start does not: not counted here.
    expect(apr1.get('car_retrieval_within_5min')?.detail).toMatchObject({ completed: 2, unmatched_completions: 1 });
    expect(apr1.get('door_forced_count')?.value).toBe(2);
  });

  it('a month holds the starts of its local month', () => {
    const march = kpis('month', '2024-03-15T00:00:00.000', later);
    expect(march.get('car_retrieval_within_5min')?.detail).toMatchObject({ completed: 2, open: 1 });
    expect(march.get('car_retrieval_within_5min')?.value).toBe(2 / 3);
    expect(march.get('car_retrieval_time_p95')).toMatchObject({ value: null, beyond: true });
    expect(march.get('door_forced_count')?.value).toBe(1);
    const april = kpis('month', '2024-04-15T00:00:00.000', later);
    expect(april.get('car_retrieval_within_5min')?.detail).toMatchObject({ completed: 2, open: 0 });
    expect(april.get('door_forced_count')?.value).toBe(2);
  });

  it('just after midnight, the open requests of the closed day count against it, however young', () => {
    const justAfter = at('2024-04-01T00:01:00.000');
    // At 00:01 neither "eve" (handed over at 00:03) nor "stuck" has completed. While the day ran
    // they would be pending (younger than 300 s); the day has closed, so both are failures.
    const mar31 = kpis('day', '2024-03-31T12:00:00.000', justAfter);
    expect(mar31.get('car_retrieval_within_5min')).toMatchObject({ value: 0, open: 2 });
    expect(mar31.get('car_retrieval_within_5min')?.detail).toMatchObject({ completed: 0, open_counted: 2 });
  });
});
