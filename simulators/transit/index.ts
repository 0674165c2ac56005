import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../gateway/model/clock.js';
import { parseSection, type SimulatorGroup, type SimulatorSectionFactory } from '../core.js';
import { alerts, runsBetween, tripUpdates } from './feed.js';
import { transitScenarioSchema, type TransitScenario } from './schema.js';
import { staticFiles, timetable, type SimTrip } from './timetable.js';

export { transitScenarioSchema, type TransitScenario } from './schema.js';

/**
 * A transit agency's feed server for the community's stops: the static GTFS under /gtfs/<file>,
 * the GTFS-Realtime TripUpdates at /gtfs-rt/trip-updates and Alerts at /gtfs-rt/alerts, on the
 * simulated clock. Delays are seeded per trip; the scenario's cancelled trips are CANCELED in the
 * feed. Ground truth: the departures scheduled so far today, how many ran and how many did not.
 */
export class TransitFeedGroup implements SimulatorGroup {
  readonly name = 'transit-feed';
  readonly trips: SimTrip[];
  private readonly files: Record<string, string>;
  private server: Server | undefined;
  private readonly tz: string;
  requests = 0;

  constructor(
    readonly scenario: TransitScenario,
    private readonly clock: Clock,
    o: { seed: number; latitude: number; longitude: number; timezone: string },
  ) {
    this.tz = scenario.timezone ?? o.timezone;
    this.trips = timetable(scenario, o.seed);
    this.files = staticFiles(scenario, this.trips, { latitude: o.latitude, longitude: o.longitude, timezone: this.tz });
  }

  get port(): number {
    return (this.server?.address() as AddressInfo | null)?.port ?? this.scenario.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((req, res) => {
      this.requests++;
      const path = (req.url ?? '').split('?')[0] ?? '';
      const file = /^\/gtfs\/([a-z_]+\.txt)$/.exec(path)?.[1];
      if (req.method !== 'GET') res.writeHead(405).end();
      else if (file && this.files[file] !== undefined) res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end(this.files[file]);
      else if (path === '/gtfs-rt/trip-updates') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(tripUpdates(this.trips, this.tz, this.clock.now()));
      else if (path === '/gtfs-rt/alerts') res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(alerts(this.scenario, this.clock.now()));
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.scenario.port, this.scenario.host, () => resolve());
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }

  /** Departures scheduled in [from, to) at the community's stops, and how many the feed cancelled. */
  departures(from: number, to: number): { scheduled: number; ran: number; cancelled: number } {
    const runs = runsBetween(this.trips, this.tz, from, to);
    const cancelled = runs.filter((r) => r.trip.cancelled).length;
    return { scheduled: runs.length, ran: runs.length - cancelled, cancelled };
  }

  groundTruth(): Record<string, unknown> {
    const now = this.clock.now();
    // runsBetween keeps only runs scheduled in [from, to).
    const day = runsBetween(this.trips, this.tz, now - 86_400_000, now);
    const cancelled = day.filter((r) => r.trip.cancelled);
    const scheduled = day.length;
    const ran = scheduled - cancelled.length;
    return { last24h: { scheduled, ran, cancelled: cancelled.length, availability: scheduled ? ran / scheduled : null }, cancelledTrips: cancelled.map((r) => `${r.serviceDate}/${r.trip.id}`) };
  }
}

export const transitSection: SimulatorSectionFactory = (section, ctx) => [
  new TransitFeedGroup(parseSection('transit', transitScenarioSchema, section), ctx.clock, { seed: ctx.seed, latitude: ctx.latitude, longitude: ctx.longitude, timezone: ctx.timezone }),
];
