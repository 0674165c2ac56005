import { describe, expect, it } from 'vitest';
import {
  boundOf,
  energyBalance,
  filterDevices,
  healthProblems,
  mainMeters,
  matchPairs,
  occupancyByZone,
  parcelsWaiting,
  Ring,
  sumOf,
  waterByType,
  zoneOf,
  type Device,
  type Ev,
  type Rec,
} from '../../../gateway/web/derive.js';

const good = (value: unknown, ts = 1000): Rec => ({ value, quality: 'good', ts });

describe('Ring', () => {
  it('never holds more than its capacity and keeps the newest', () => {
    const r = new Ring<number>(3);
    for (let i = 1; i <= 10; i++) r.push(i);
    expect(r.size).toBe(3);
    expect(r.toArray()).toEqual([8, 9, 10]);
    expect(r.newest(2)).toEqual([10, 9]);
    r.clear();
    expect(r.toArray()).toEqual([]);
  });
});

describe('sums carry the quality of their parts', () => {
  it('is good only when every part is good', () => {
    expect(sumOf([good(100), good(250, 2000)])).toEqual({ value: 350, quality: 'good', n: 2, ts: 2000 });
  });
  it('leaves a bad part out and says the sum is partial', () => {
    const s = sumOf([good(100), { value: null, quality: 'bad', reason: 'device_offline' }]);
    expect(s).toMatchObject({ value: 100, quality: 'uncertain', reason: 'partial', n: 1 });
  });
  it('marks a sum with a stale part as stale', () => {
    expect(sumOf([good(1), { value: 2, quality: 'uncertain', reason: 'stale' }])).toMatchObject({ value: 3, quality: 'uncertain', reason: 'stale' });
  });
  it('has no value when nothing is usable', () => {
    expect(sumOf([]).value).toBeNull();
    expect(sumOf([{ value: 5, quality: 'bad' }])).toMatchObject({ value: null, quality: 'bad' });
  });
});

describe('energy balance', () => {
  const devices: Device[] = [
    { id: 'pv-a', class: 'pv_inverter' },
    { id: 'pv-b', class: 'pv_inverter' },
    { id: 'bess', class: 'battery' },
    { id: 'grid-main', class: 'grid_meter', tags: { role: 'master' } },
    { id: 'grid-sub', class: 'grid_meter' },
    { id: 'hp-1', class: 'heat_pump' },
  ];
  const latest: Record<string, Rec> = {
    'pv-a/ac_power': good(30_000),
    'pv-b/ac_power': good(20_000),
    'bess/power': good(10_000), // charging
    'bess/soc': good(64),
    'grid-main/power': good(-5_000), // exporting
    'grid-sub/power': good(99_999), // a sub-meter: never added to the point of connection
    'hp-1/electric_power': good(4_000),
    'hp-1/thermal_power': good(14_000),
  };
  const b = energyBalance((d, m) => latest[`${d}/${m}`], devices);

  it('uses only the meter at the point of connection', () => {
    expect(mainMeters(devices).map((d) => d.id)).toEqual(['grid-main']);
    expect(mainMeters(devices.filter((d) => d.id !== 'grid-main')).map((d) => d.id)).toEqual(['grid-sub']);
  });
  it('computes load = PV + grid − battery charging, and COP', () => {
    expect(b.pv.value).toBe(50_000);
    expect(b.grid.value).toBe(-5_000);
    expect(b.battery.value).toBe(10_000);
    expect(b.load).toMatchObject({ value: 35_000, quality: 'good' });
    expect(b.soc.value).toBe(64);
    expect(b.cop.value).toBe(3.5);
  });
  it('works without storage, and a missing grid meter leaves the load unknown', () => {
    const noBess = energyBalance((d, m) => latest[`${d}/${m}`], devices.filter((d) => d.class !== 'battery'));
    expect(noBess.load.value).toBe(45_000);
    const noGrid = energyBalance((d, m) => latest[`${d}/${m}`], devices.filter((d) => d.class !== 'grid_meter'));
    expect(noGrid.load).toMatchObject({ value: null, quality: 'bad' });
  });
});

describe('event matching', () => {
  const ev = (ts: number, type: string, attributes: Record<string, unknown>): Ev => ({ ts, device: 'garage', type, attributes });
  it('pairs retrievals by request id and reports the unmatched as open', () => {
    const { done, open } = matchPairs(
      [
        ev(1_000, 'retrieval_requested', { request_id: 'r1' }),
        ev(2_000, 'retrieval_requested', { request_id: 'r2' }),
        ev(241_000, 'retrieval_completed', { request_id: 'r1' }),
        ev(5_000, 'retrieval_completed', { request_id: 'r9' }), // no start in the window: ignored
        ev(9_000, 'retrieval_requested', { request_id: 'r3' }),
      ],
      'retrieval_requested',
      ['retrieval_completed'],
      'request_id',
    );
    expect(done).toEqual([{ id: 'r1', device: 'garage', start: 1_000, end: 241_000, type: 'retrieval_completed', seconds: 240 }]);
    expect(open.map((o) => o.id)).toEqual(['r2', 'r3']);
  });
  it('counts a parcel as delivered by pick-up or at the door, and finds overdue ones', () => {
    const h = 3_600_000;
    const events = [
      ev(0, 'parcel_arrived', { parcel: 'p1' }),
      ev(0, 'parcel_deposited', { parcel: 'p1', compartment: 'A1' }),
      ev(600_000, 'parcel_picked_up', { parcel: 'p1', compartment: 'A1' }),
      ev(h, 'parcel_arrived', { parcel: 'p2' }),
      ev(h + 1_000_000, 'parcel_delivered', { parcel: 'p2' }),
      ev(2 * h, 'parcel_deposited', { parcel: 'p3', compartment: 'B2' }),
      ev(40 * h, 'parcel_deposited', { parcel: 'p4', compartment: 'B3' }),
    ];
    const { done } = matchPairs(events, 'parcel_arrived', ['parcel_picked_up', 'parcel_delivered'], 'parcel');
    expect(done.map((d) => [d.id, d.seconds])).toEqual([
      ['p2', 1000],
      ['p1', 600],
    ]);
    const w = parcelsWaiting(events, 51 * h);
    expect(w.waiting.map((p) => p.id)).toEqual(['p3', 'p4']);
    expect(w.overdue.map((p) => p.id)).toEqual(['p3']);
  });
});

describe('groupings', () => {
  it('puts parking spaces in zones by tag, else by id prefix', () => {
    expect(zoneOf({ id: 'space-b1-017', class: 'parking_space', tags: { zone: 'B1' } })).toBe('B1');
    expect(zoneOf({ id: 'space-b1-017', class: 'parking_space' })).toBe('space-b1');
    const spaces: Device[] = [
      { id: 'a-1', class: 'parking_space', tags: { zone: 'A' } },
      { id: 'a-2', class: 'parking_space', tags: { zone: 'A' } },
      { id: 'b-1', class: 'parking_space', tags: { zone: 'B' } },
    ];
    const latest: Record<string, Rec> = {
      'a-1/occupied': good(true),
      'a-1/has_charger': good(true),
      'a-2/occupied': { value: false, quality: 'bad' },
      'b-1/occupied': good(false),
    };
    expect(occupancyByZone(spaces, (d, m) => latest[`${d}/${m}`])).toEqual([
      { zone: 'A', total: 2, occupied: 1, unknown: 1, chargers: 1 },
      { zone: 'B', total: 1, occupied: 0, unknown: 0, chargers: 0 },
    ]);
  });

  it('sums water by type without counting a master meter twice', () => {
    const r = waterByType([
      { type: 'potable', role: 'master', volume: 100 },
      { type: 'potable', volume: 60 },
      { type: 'potable', volume: 20 },
      { type: 'reclaimed', volume: 15 },
      { type: 'rainwater', volume: 5 },
      { type: 'hot', volume: null },
    ]);
    expect([...r.byType]).toEqual([
      ['potable', 80],
      ['reclaimed', 15],
      ['rainwater', 5],
    ]);
    expect(r.total).toBe(100);
    expect(r.altShare).toBeCloseTo(0.2, 10);
    expect(waterByType([]).altShare).toBeNull();
  });

  it('states target bounds', () => {
    expect(boundOf({ max: 300 })).toEqual({ op: '≤', value: 300 });
    expect(boundOf({ min: 0.3 })).toEqual({ op: '≥', value: 0.3 });
    expect(boundOf({ min: 1, max: 2 })).toEqual({ op: '∈', min: 1, max: 2 });
    expect(boundOf(undefined)).toBeUndefined();
  });

  it('filters devices by text, class, status and quality', () => {
    const list: Device[] = [
      { id: 'pv-roof-a', class: 'pv_inverter', connection: 'plant-bus', status: 'online', quality: 'good' },
      { id: 'hp-1', class: 'heat_pump', connection: 'plant-bus', status: 'stale', quality: 'uncertain' },
      { id: 'space-001', class: 'parking_space', connection: 'lora', status: 'online', quality: 'good' },
    ];
    expect(filterDevices(list, { text: 'PLANT' }).map((d) => d.id)).toEqual(['pv-roof-a', 'hp-1']);
    expect(filterDevices(list, { cls: 'parking_space' }).map((d) => d.id)).toEqual(['space-001']);
    expect(filterDevices(list, { status: 'stale', quality: 'uncertain' }).map((d) => d.id)).toEqual(['hp-1']);
    expect(filterDevices(list).length).toBe(3);
  });
});

describe('healthProblems', () => {
  it('lists what needs attention, and nothing when all is well', () => {
    expect(healthProblems(null)).toEqual([]);
    expect(healthProblems({ status: 'ok', drivers: [{ connection: 'plant', state: 'connected' }], sinks: [{ id: 'vm', state: 'ok' }], store: { over_cap: false } })).toEqual([]);
    expect(
      healthProblems({
        status: 'degraded',
        drivers: [{ connection: 'plant', state: 'connected' }, { connection: 'station', state: 'backoff', error: 'ECONNREFUSED' }],
        sinks: [{ id: 'vm', state: 'backoff', backlog: 1200, lastError: '503' }, { id: 'north', state: 'ok', backlog: 0 }],
        store: { over_cap: true, last_loss: { at: '2026-11-29T01:00:00.000Z', samples: 5000, events: 12 } },
      }),
    ).toEqual([
      { kind: 'link', id: 'station', state: 'backoff', detail: 'ECONNREFUSED' },
      { kind: 'sink', id: 'vm', state: 'backoff', backlog: 1200, detail: '503' },
      { kind: 'over_cap' },
      { kind: 'loss', at: '2026-11-29T01:00:00.000Z', samples: 5000, events: 12 },
    ]);
    expect(healthProblems({ status: 'down', drivers: [], sinks: [], store: {} })).toEqual([{ kind: 'store_down' }]);
  });
});
