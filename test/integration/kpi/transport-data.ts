import type { EventReading, Reading } from '../../../gateway/model/types.js';
import { percentile } from '../../../gateway/kpi/events.js';
import { DAY, HOUR, MIN, rng, type DeviceSpec } from './fixtures.js';

/** Transport and access events with exactly known outcomes: ground truth for the event KPIs. */

export const TRANSPORT_DEVICES: DeviceSpec[] = [
  { id: 'garage-1', class: 'parking_garage' },
  { id: 'logistics', class: 'parcel_locker' },
  { id: 'locker-1', class: 'parcel_locker' },
  { id: 'door-1', class: 'access_door' },
  { id: 'door-2', class: 'access_door' },
  { id: 'space-1', class: 'parking_space' },
  { id: 'space-2', class: 'parking_space' },
  { id: 'ev-1', class: 'ev_charger' },
];

export interface TransportDay {
  readings: Reading[];
  events: EventReading[];
  /** Events held back (written later, to test late data). */
  held: EventReading[];
  truth: Record<string, number>;
}

const gauge = (device: string, metric: string, from: number, to: number, f: (t: number) => number | boolean | string, every = MIN): Reading[] => {
  const out: Reading[] = [];
  for (let t = from; t < to; t += every) out.push({ device, metric, value: f(t), ts: t });
  return out;
};

/**
 * One day [day, day + DAY): 200 car retrievals (3 never completed), 150 parcels (some
 * delivered at the door), door traffic, two parking spaces and a charger.
 */
export function transportDay(day: number, seed = 7, opts: { holdCompletions?: number } = {}): TransportDay {
  const r = rng(seed);
  const events: EventReading[] = [];
  const held: EventReading[] = [];
  const retrieval: number[] = [];
  let openRetrievals = 0;
  for (let i = 0; i < 200; i++) {
    const ts = day + Math.floor(r() * (DAY - 2 * HOUR));
    const id = `req-${seed}-${i}`;
    const vehicle = `浙A${String(10000 + i)}`;
    events.push({ device: 'garage-1', type: 'retrieval_requested', ts, attributes: { vehicle, request_id: id } });
    if (i % 67 === 66) {
      openRetrievals++;
      continue;
    }
    const d = Math.round((60 + r() * 340) * 1000);
    retrieval.push(d);
    const done: EventReading = { device: 'garage-1', type: 'retrieval_completed', ts: ts + d, attributes: { vehicle, request_id: id } };
    if (opts.holdCompletions && i < opts.holdCompletions) held.push(done);
    else events.push(done);
  }
  const parcel: number[] = [];
  for (let i = 0; i < 150; i++) {
    const ts = day + Math.floor(r() * (DAY - 4 * HOUR));
    const p = `SF${seed}${String(100000 + i)}`;
    events.push({ device: 'logistics', type: 'parcel_arrived', ts, attributes: { parcel: p } });
    const d = Math.round((5 + r() * 55) * MIN);
    parcel.push(d);
    if (i % 5 === 0) events.push({ device: 'logistics', type: 'parcel_delivered', ts: ts + d, attributes: { parcel: p } });
    else {
      const box = `C${i % 60}`;
      events.push({ device: 'locker-1', type: 'parcel_deposited', ts: ts + Math.floor(d / 2), attributes: { parcel: p, compartment: box } });
      events.push({ device: 'locker-1', type: 'parcel_picked_up', ts: ts + d, attributes: { parcel: p, compartment: box } });
    }
  }
  let granted = 0;
  let denied = 0;
  for (let i = 0; i < 600; i++) {
    const ok = r() > 0.04;
    if (ok) granted++;
    else denied++;
    events.push({ device: i % 2 ? 'door-1' : 'door-2', type: ok ? 'access_granted' : 'access_denied', ts: day + Math.floor(r() * DAY), attributes: { credential: `card-${i % 97}`, method: 'card' } });
  }
  for (const [type, n] of [['door_forced', 2], ['door_held_open', 5]] as const) {
    for (let i = 0; i < n; i++) events.push({ device: 'door-1', type, ts: day + (i + 1) * 3 * HOUR, attributes: {} });
  }
  let entries = 0;
  for (let i = 0; i < 360; i++) {
    entries++;
    events.push({ device: 'garage-1', type: 'vehicle_entry', ts: day + Math.floor((i * DAY) / 360), attributes: { vehicle: `浙B${i}`, gate: 'north', resident: true } });
  }

  const lh = (t: number) => (t - day) / HOUR;
  const readings: Reading[] = [
    ...gauge('garage-1', 'spaces_total', day - HOUR, day + DAY + HOUR, () => 120, 15 * MIN),
    ...gauge('garage-1', 'spaces_free', day - HOUR, day + DAY + HOUR, (t) => Math.round(60 + 55 * Math.cos((2 * Math.PI * lh(t)) / 24))),
    ...gauge('logistics', 'compartments_total', day - HOUR, day + DAY + HOUR, () => 0, 15 * MIN),
    ...gauge('locker-1', 'compartments_total', day - HOUR, day + DAY + HOUR, () => 60, 15 * MIN),
    ...gauge('locker-1', 'compartments_occupied', day - HOUR, day + DAY + HOUR, (t) => Math.round(30 + 24 * Math.sin((2 * Math.PI * lh(t)) / 24))),
    ...gauge('logistics', 'compartments_occupied', day - HOUR, day + DAY + HOUR, () => 0),
    ...gauge('door-1', 'door_open', day - HOUR, day + DAY + HOUR, () => false, 5 * MIN),
    ...gauge('door-2', 'door_open', day - HOUR, day + DAY + HOUR, () => false, 5 * MIN),
    // space-1 occupied 00:00–08:00 and 18:00–24:00 (14 h); space-2 occupied 09:00–12:00 (3 h).
    ...gauge('space-1', 'occupied', day - HOUR, day + DAY + HOUR, (t) => lh(t) < 8 || lh(t) >= 18, 10 * MIN),
    ...gauge('space-2', 'occupied', day - HOUR, day + DAY + HOUR, (t) => lh(t) >= 9 && lh(t) < 12, 10 * MIN),
    ...gauge('space-1', 'has_charger', day - HOUR, day + DAY + HOUR, () => true, HOUR),
    ...gauge('space-2', 'has_charger', day - HOUR, day + DAY + HOUR, () => false, HOUR),
    // The charger charges 20:00–02:00 local wrapped into this day: 0–2 and 20–24 (6 h), faulted 12:00–14:00.
    ...gauge('ev-1', 'status', day - HOUR, day + DAY + HOUR, (t) => (lh(t) >= 20 || (lh(t) >= 0 && lh(t) < 2) ? 'charging' : lh(t) >= 12 && lh(t) < 14 ? 'faulted' : 'available'), 5 * MIN),
  ];

  const all = [...retrieval].sort((a, b) => a - b);
  const withOpen = [...all, ...Array.from({ length: openRetrievals }, () => Number.POSITIVE_INFINITY)];
  const parcels = [...parcel].sort((a, b) => a - b);
  return {
    readings,
    events,
    held,
    truth: {
      car_retrieval_time_p95: (percentile(withOpen, 0.95) as number) / 1000,
      car_retrieval_within_5min: all.filter((d) => d <= 300_000).length / (all.length + openRetrievals),
      open_retrievals: openRetrievals,
      parcel_to_door_time_p95: (percentile(parcels, 0.95) as number) / 1000,
      parcel_within_30min: parcels.filter((d) => d <= 1_800_000).length / parcels.length,
      access_denied_rate: denied / (granted + denied),
      door_forced_count: 2,
      door_held_open_count: 5,
      parking_turnover: entries / 120,
      parking_free_spaces_min: 5,
      locker_occupancy: 54 / 60,
      parking_occupancy: 17 / 48,
      charging_provision: 0.5,
      charger_utilisation: 6 / 22,
      parcels_overdue: 0,
    },
  };
}
