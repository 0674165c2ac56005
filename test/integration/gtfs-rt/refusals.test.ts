import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gtfsRtConnectionSchema } from '../../../drivers/gtfs-rt/connection-schema.js';
import { GtfsRtDriver } from '../../../drivers/gtfs-rt/driver.js';
import { gtfsRtProfileSchema } from '../../../drivers/gtfs-rt/profile-schema.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { deviceSchema } from '../../../gateway/model/site-config.js';
import { tempDir } from '../../helpers/peers.js';
import { at, collect, encodeFeed, FeedServer, rt, writeStatic, type Collected } from './fixtures.js';

/**
 * A hostile or failing feed over real HTTP: oversized (announced or streamed), not protobuf,
 * without the required header, too many entities, HTTP errors, a dead server. Each is refused
 * whole and counted; the last good feed serves until it is stale; then the boards fall back to
 * the schedule, flagged, and passed departures are `unknown`, not `ran`.
 */

const profile = { ...gtfsRtProfileSchema.parse({ id: 'gtfs-rt-stop', description: 'board', classes: ['transit_stop'], protocol: 'gtfs-rt' }), file: 'x' };
const server = new FeedServer();
const tmp = tempDir('fcgw-gtfs-');
const clock = new ManualClock(at('2024-03-04T07:55:00'));
let c: Collected;
let driver: GtfsRtDriver;

const good = () => encodeFeed(clock.now(), [{ id: 'tu-2', tripUpdate: { trip: { tripId: 'T1', routeId: 'R12' }, stopTimeUpdate: [{ stopSequence: 3, departure: { delay: 60 } }] } }]);
const last = (metric: string) => c.readings.filter((r) => r.device === 'bus-eg' && r.metric === metric).at(-1);
const counters = () => driver.health().counters ?? {};

beforeAll(async () => {
  writeStatic(tmp.dir);
  await server.start();
  c = collect(clock);
  const connection = gtfsRtConnectionSchema.parse({ id: 'bus', protocol: 'gtfs-rt', trip_updates: server.url, static: tmp.dir, timeout: '2s', stale_after: '3m', max_bytes: '4kB', max_entities: 3 });
  const config = deviceSchema.parse({ id: 'bus-eg', class: 'transit_stop', connection: 'bus', profile: 'gtfs-rt-stop', options: { stop_id: 'EG1' } });
  driver = new GtfsRtDriver({ connection, devices: [{ config, profile }], ctx: c.ctx });
});
afterAll(async () => {
  await driver.stop();
  await server.stop();
  tmp.cleanup();
});

describe('a hostile or failing GTFS-Realtime feed', () => {
  it('flags the schedule-only board while no feed has been read', async () => {
    server.body = { status: 503 };
    await driver.poll();
    expect(last('next_departure')).toMatchObject({ value: 300, quality: 'uncertain', reason: 'feed_missing' });
    expect(last('delay')?.value).toBeNull();
    expect(driver.health().state).toBe('backoff');
    expect(counters()['fetch_errors']).toBe(1);
  });

  it('refuses each bad body whole, counts it by reason and keeps the last good feed while it is fresh', async () => {
    server.body = good();
    await driver.poll();
    expect(last('delay')).toMatchObject({ value: 60 });
    expect(last('delay')?.quality).toBeUndefined();

    const bad: [string, () => void][] = [
      ['feed_too_large', () => (server.body = randomBytes(10_000))],
      ['feed_too_large', () => ((server.body = randomBytes(10_000)), (server.chunked = true))],
      ['feed_malformed', () => ((server.chunked = false), (server.body = Buffer.from('<html><body>502 Bad Gateway</body></html>')))],
      ['feed_malformed', () => (server.body = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))],
      ['feed_malformed', () => (server.body = rt.FeedMessage.encode({ header: { gtfsRealtimeVersion: '' }, entity: [] }).finish())],
      ['feed_too_many_entities', () => (server.body = encodeFeed(clock.now(), [1, 2, 3, 4].map((i) => ({ id: `e${i}`, tripUpdate: { trip: { tripId: `T${i}` } } }))))],
    ];
    for (const [reason, set] of bad) {
      set();
      clock.advance(20_000);
      await driver.poll();
      expect(c.rejections.at(-1)).toMatchObject({ connection: 'bus', reason });
      // The good feed of less than 3 minutes ago still holds.
      expect(last('delay')?.value).toBe(60);
    }
    expect(counters()['feeds_refused']).toBe(6);
    expect(c.rejections).toHaveLength(6);
  });

  it('falls back to the schedule once the feed is stale, and judges passed departures unknown', async () => {
    server.body = { status: 500 };
    clock.set(at('2024-03-04T08:05:00'));
    await driver.poll();
    expect(last('next_departure')).toMatchObject({ value: 300, quality: 'uncertain', reason: 'feed_stale' });
    expect(last('delay')?.value).toBeNull();
    expect(c.events.filter((e) => e.type === 'departure').map((e) => [e.attributes['trip'], e.attributes['status']])).toEqual([['T1', 'unknown']]);
    expect(driver.health().devices[0]).toMatchObject({ state: 'offline', error: 'feed_stale' });
  });

  it('keeps the schedule in hand when a re-read of the static GTFS fails, and still reads the feed', async () => {
    const c2 = collect(clock);
    const connection = gtfsRtConnectionSchema.parse({ id: 'bus2', protocol: 'gtfs-rt', trip_updates: server.url, static: tmp.dir, static_refresh: '1m' });
    const config = deviceSchema.parse({ id: 'bus-eg', class: 'transit_stop', connection: 'bus2', profile: 'gtfs-rt-stop', options: { stop_id: 'EG1' } });
    const d2 = new GtfsRtDriver({ connection, devices: [{ config, profile }], ctx: c2.ctx });
    server.body = good();
    await d2.poll();
    rmSync(join(tmp.dir, 'stop_times.txt'));
    clock.advance(2 * 60_000);
    server.body = good();
    await d2.poll();
    expect(d2.health()).toMatchObject({ state: 'connected', counters: { static_errors: 1, static_loads: 1, feeds_decoded: 2 } });
    expect(c2.readings.filter((r) => r.metric === 'next_departure').at(-1)).toMatchObject({ ts: clock.now() });
    expect(c2.readings.filter((r) => r.metric === 'next_departure').at(-1)?.quality).toBeUndefined();
    writeStatic(tmp.dir);
  });

  it('never says the API key in a feed URL: not in health, refusals or explain (an agency key as ?key=…)', async () => {
    const c3 = collect(clock);
    const keyed = `${server.url}?key=AGENCY-KEY-7f3a9c&format=pb`;
    const connection = gtfsRtConnectionSchema.parse({ id: 'bus3', protocol: 'gtfs-rt', trip_updates: keyed, static: tmp.dir, max_bytes: '4kB' });
    const config = deviceSchema.parse({ id: 'bus-eg', class: 'transit_stop', connection: 'bus3', profile: 'gtfs-rt-stop', options: { stop_id: 'EG1' } });
    const d3 = new GtfsRtDriver({ connection, devices: [{ config, profile }], ctx: c3.ctx });
    server.body = { status: 503 };
    await d3.poll();
    expect(d3.health().error).toMatch(/answered HTTP 503/);
    server.body = randomBytes(8 * 1024);
    await d3.poll();
    expect(c3.rejections.map((r) => r.reason)).toContain('feed_too_large');
    const said = JSON.stringify([d3.health(), c3.rejections, d3.explain('bus-eg')]);
    expect(said).toContain('key=');
    expect(said).not.toContain('AGENCY-KEY-7f3a9c');
    await d3.stop();
  });

  it('survives a server that is gone', async () => {
    await server.stop();
    clock.advance(30_000);
    await driver.poll();
    expect(driver.health()).toMatchObject({ state: 'backoff' });
    expect(driver.health().error).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/gtfs-rt\/trip-updates: [A-Z_]+$/);
  });
});
