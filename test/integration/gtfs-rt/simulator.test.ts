import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { gtfsRtConnectionSchema } from '../../../drivers/gtfs-rt/connection-schema.js';
import { GtfsRtDriver } from '../../../drivers/gtfs-rt/driver.js';
import { gtfsRtProfileSchema } from '../../../drivers/gtfs-rt/profile-schema.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { deviceSchema } from '../../../gateway/model/site-config.js';
import { TransitFeedGroup, transitScenarioSchema } from '../../../simulators/transit/index.js';
import { at, collect, type Collected } from './fixtures.js';

/**
 * The demo's transit feed server (its scenario section as the demo runs it, on a free port) read
 * by the driver over HTTP, static GTFS included: the departures the driver settles agree with the
 * simulator's ground truth, cancelled trips and all.
 */

const scenario = transitScenarioSchema.parse({ ...(parse(readFileSync('simulators/scenarios/community.yaml', 'utf8')) as { transit: object }).transit, port: 0 });
const clock = new ManualClock(at('2024-03-04T07:00:00'));
const sim = new TransitFeedGroup(scenario, clock, { seed: 42, latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai' });
const profile = { ...gtfsRtProfileSchema.parse({ id: 'gtfs-rt-stop', description: 'board', classes: ['transit_stop'], protocol: 'gtfs-rt' }), file: 'x' };
let c: Collected;
let driver: GtfsRtDriver;

beforeAll(async () => {
  await sim.start();
  c = collect(clock);
  const base = `http://127.0.0.1:${sim.port}`;
  const connection = gtfsRtConnectionSchema.parse({ id: 'transit', protocol: 'gtfs-rt', trip_updates: `${base}/gtfs-rt/trip-updates`, alerts: `${base}/gtfs-rt/alerts`, static: `${base}/gtfs/`, timeout: '2s' });
  const dev = (id: string, stop: string, routes: string) => ({ config: deviceSchema.parse({ id, class: 'transit_stop', connection: 'transit', profile: 'gtfs-rt-stop', options: { stop_id: stop, routes } }), profile });
  driver = new GtfsRtDriver({ connection, devices: [dev('bus-12', 'LH-EG', '12'), dev('bus-k5', 'LH-EG', 'K5'), dev('metro-5', 'M5-LH', 'L5')], ctx: c.ctx });
});
afterAll(async () => {
  await driver.stop();
  await sim.stop();
});

describe('the simulated agency feed', () => {
  it('settles the departures its ground truth says: scheduled, ran and cancelled', async () => {
    // 07:00 to 10:00 in 1-minute polls, with the feed moving on the same clock.
    await driver.poll();
    expect(driver.health().state).toBe('connected');
    const end = at('2024-03-04T10:00:00');
    while (clock.now() < end) {
      clock.advance(60_000);
      await driver.poll();
    }
    const deps = c.events.filter((e) => e.type === 'departure');
    // Settled: departed (predicted) by 09:59, i.e. scheduled from 07:00 (the driver's start); compare on scheduled times.
    const last = Math.max(...deps.map((e) => Number(e.attributes['scheduled'])));
    const truth = sim.departures(at('2024-03-04T07:00:00'), last + 1);
    const count = (s: string) => deps.filter((e) => e.attributes['status'] === s).length;
    expect({ scheduled: deps.length, ran: count('ran'), cancelled: count('cancelled') }).toEqual(truth);
    expect(truth.cancelled).toBe(1); // line 12 at 08:20
    expect(deps.find((e) => e.attributes['status'] === 'cancelled')?.attributes).toMatchObject({ trip: '12-0820', line: '12' });
    // Delays come through as the simulator drew them.
    const trips = new Map(sim.trips.map((t) => [t.id, t]));
    for (const e of deps.filter((d) => d.attributes['status'] === 'ran')) expect(e.attributes['departure_delay']).toBe(trips.get(String(e.attributes['trip']))?.delay);
    // Polls far apart (a long outage, or a simulation at high speed): what left in between is still judged.
    const before = deps.length;
    clock.set(at('2024-03-04T18:00:00'));
    await driver.poll();
    const later = c.events.filter((e) => e.type === 'departure').slice(before);
    const lastLater = Math.max(...later.map((e) => Number(e.attributes['scheduled'])));
    const truthLater = sim.departures(last + 1, lastLater + 1);
    expect({ scheduled: later.length, cancelled: later.filter((e) => e.attributes['status'] === 'cancelled').length }).toEqual({ scheduled: truthLater.scheduled, cancelled: truthLater.cancelled });
    expect(truthLater.cancelled).toBe(1); // K5 at 17:30
    expect(c.events.filter((e) => e.type === 'service_alert').map((e) => [e.device, e.attributes['header']])).toEqual([['bus-k5', 'K5路因道路施工绕行']]);
  });
});
