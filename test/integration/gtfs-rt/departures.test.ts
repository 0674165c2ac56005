import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gtfsRtConnectionSchema } from '../../../drivers/gtfs-rt/connection-schema.js';
import { GtfsRtDriver } from '../../../drivers/gtfs-rt/driver.js';
import { gtfsRtProfileSchema } from '../../../drivers/gtfs-rt/profile-schema.js';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { deviceSchema } from '../../../gateway/model/site-config.js';
import { tempDir } from '../../helpers/peers.js';
import { Fixture, testConfig } from '../kpi/fixtures.js';
import { at, collect, encodeFeed, FeedServer, rt, writeStatic, type Collected } from './fixtures.js';

/**
 * A TripUpdates feed built with the official GTFS-Realtime bindings, served over real HTTP on
 * loopback, read by the driver against a static GTFS written as agencies publish it. Boards,
 * delays (own, propagated from an earlier stop, absolute times), a cancelled trip, an alert, and
 * the availability KPI from the departures the driver settled.
 */

const profile = { ...gtfsRtProfileSchema.parse({ id: 'gtfs-rt-stop', description: 'board', classes: ['transit_stop'], protocol: 'gtfs-rt' }), file: 'x' };
const device = (id: string, options: Record<string, string>) => ({ config: deviceSchema.parse({ id, class: 'transit_stop', connection: 'bus', profile: 'gtfs-rt-stop', options }), profile });

const server = new FeedServer();
const tmp = tempDir('fcgw-gtfs-');
const clock = new ManualClock(at('2024-03-04T07:55:00'));
let c: Collected;
let driver: GtfsRtDriver;

/** The agency's feed at 07:55: T2 120 s late at EG1, T3 cancelled, T4 300 s late at UP (carried on to EG1), T5 with an absolute time 45 s late, an alert on line 12. */
function liveFeed(now: number): Uint8Array {
  return encodeFeed(now, [
    { id: 'tu-2', tripUpdate: { trip: { tripId: 'T2', routeId: 'R12', startDate: '20240304' }, stopTimeUpdate: [{ stopSequence: 3, stopId: 'EG1', departure: { delay: 120 } }] } },
    { id: 'tu-3', tripUpdate: { trip: { tripId: 'T3', routeId: 'R12', scheduleRelationship: rt.TripDescriptor.ScheduleRelationship.CANCELED } } },
    { id: 'tu-4', tripUpdate: { trip: { tripId: 'T4', routeId: 'R12' }, stopTimeUpdate: [{ stopSequence: 1, stopId: 'UP', departure: { delay: 300 } }] } },
    { id: 'tu-5', tripUpdate: { trip: { tripId: 'T5', routeId: 'R12' }, stopTimeUpdate: [{ stopId: 'EG1', departure: { time: Math.floor((at('2024-03-04T08:40:00') + 45_000) / 1000) } }] } },
    {
      id: 'al-1',
      alert: {
        informedEntity: [{ routeId: 'R12' }],
        effect: rt.Alert.Effect.DETOUR,
        cause: rt.Alert.Cause.CONSTRUCTION,
        headerText: { translation: [{ text: 'Line 12 diverted', language: 'en' }, { text: '12路绕行', language: 'zh' }] },
      },
    },
  ]);
}

beforeAll(async () => {
  writeStatic(tmp.dir);
  await server.start();
  c = collect(clock);
  const connection = gtfsRtConnectionSchema.parse({ id: 'bus', protocol: 'gtfs-rt', trip_updates: server.url, static: tmp.dir, poll: '30s', timeout: '2s', stale_after: '3m' });
  driver = new GtfsRtDriver({ connection, devices: [device('bus-eg-12', { stop_id: 'EG1,EG2', routes: 'R12' }), device('bus-eg-k5', { stop_id: 'EG1, EG2', routes: 'K5' })], ctx: c.ctx });
});
afterAll(async () => {
  await driver.stop();
  await server.stop();
  tmp.cleanup();
});

const last = (device: string, metric: string) => c.readings.filter((r) => r.device === device && r.metric === metric).at(-1);

describe('GTFS-Realtime departures over HTTP', () => {
  it('shows the next departures with their delays, and the line disrupted by the alert and the cancellation', async () => {
    server.body = liveFeed(clock.now());
    await driver.poll();
    expect(server.requests).toBe(1);
    // 07:55: T1 at 08:00 on time, then T2 at 08:10 + 120 s.
    expect(last('bus-eg-12', 'next_departure')).toMatchObject({ value: 300, ts: clock.now() });
    expect(last('bus-eg-12', 'next_departure')?.quality).toBeUndefined();
    expect(last('bus-eg-12', 'following_departure')?.value).toBe(17 * 60);
    expect(last('bus-eg-12', 'delay')?.value).toBe(0);
    expect(last('bus-eg-12', 'service_status')?.value).toBe('disrupted');
    expect(last('bus-eg-k5', 'next_departure')?.value).toBe(600);
    expect(last('bus-eg-k5', 'following_departure')).toMatchObject({ value: null, quality: 'bad', reason: 'no_departure' });
    expect(last('bus-eg-k5', 'service_status')?.value).toBe('normal');
    expect(c.events.filter((e) => e.type === 'trip_cancelled')).toEqual([{ device: 'bus-eg-12', type: 'trip_cancelled', ts: clock.now(), attributes: { trip: 'T3', route: 'R12', line: '12', scheduled: at('2024-03-04T08:20:00'), } }]);
    expect(c.events.filter((e) => e.type === 'service_alert')).toEqual([{ device: 'bus-eg-12', type: 'service_alert', ts: clock.now(), attributes: { alert: 'al-1', effect: 'DETOUR', cause: 'CONSTRUCTION', header: '12路绕行' } }]);
  });

  it('carries a delay forward from an earlier stop and takes absolute times', async () => {
    clock.set(at('2024-03-04T08:25:00'));
    server.body = liveFeed(clock.now());
    await driver.poll();
    // T3 (08:20) is cancelled; next is T4 at 08:30 + 300 s carried from UP: 10 min away, 300 s late.
    expect(last('bus-eg-12', 'next_departure')?.value).toBe(600);
    expect(last('bus-eg-12', 'delay')?.value).toBe(300);
    // Then T5 at 08:40 + 45 s (an absolute time in the feed).
    expect(last('bus-eg-12', 'following_departure')?.value).toBe(15 * 60 + 45);
    expect(last('bus-eg-12', 'service_status')?.value).toBe('disrupted');
  });

  it('settles every passed departure once: ran with its delay, or cancelled; availability falls by exactly the cancelled trip', async () => {
    clock.set(at('2024-03-04T09:00:00'));
    server.body = liveFeed(clock.now());
    await driver.poll();
    await driver.poll();
    const deps = c.events.filter((e) => e.type === 'departure').sort((a, b) => a.ts - b.ts);
    expect(deps.map((e) => [e.device, e.attributes['trip'], e.attributes['status'], e.attributes['departure_delay'] ?? null, e.ts])).toEqual([
      ['bus-eg-12', 'T1', 'ran', 0, at('2024-03-04T08:00:00')],
      ['bus-eg-k5', 'T7', 'ran', 0, at('2024-03-04T08:05:00')],
      ['bus-eg-12', 'T2', 'ran', 120, at('2024-03-04T08:12:00')],
      ['bus-eg-12', 'T3', 'cancelled', null, at('2024-03-04T08:20:00')],
      ['bus-eg-12', 'T4', 'ran', 300, at('2024-03-04T08:35:00')],
      ['bus-eg-12', 'T5', 'ran', 45, at('2024-03-04T08:40:45')],
      ['bus-eg-12', 'T6', 'ran', 0, at('2024-03-04T08:50:00')],
    ].sort((a, b) => (a[4] as number) - (b[4] as number)));
    // No more departures today on these boards (T9 runs on weekends only).
    expect(last('bus-eg-12', 'next_departure')?.value).toBeNull();
    expect(last('bus-eg-12', 'service_status')?.value).toBe('no_service');

    // Through the real pipeline and store into the KPI: 7 scheduled departures, 6 ran.
    const fx = new Fixture([{ id: 'bus-eg-12', class: 'transit_stop' }, { id: 'bus-eg-k5', class: 'transit_stop' }]);
    try {
      fx.write([], c.events);
      const pass = new KpiPass(fx.store.kpiReads(), clock.now(), calculatorOptions(testConfig()));
      const [r] = pass.compute(windowAt('day', clock.now(), 'Asia/Shanghai'), { site: true }, ['transit_service_availability']);
      expect(r?.value).toBe(6 / 7);
      expect(r?.coverage).toBe(1);
      expect(r?.detail).toMatchObject({ scheduled: 7, ran: 6, cancelled: 1 });
    } finally {
      fx.close();
    }
  });
});
