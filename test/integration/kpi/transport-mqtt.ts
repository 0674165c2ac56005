import pino from 'pino';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { loadConfig } from '../../../gateway/config/load.js';
import { percentile } from '../../../gateway/kpi/events.js';
import type { Clock } from '../../../gateway/model/clock.js';
import { transportGroups, transportSchema } from '../../../simulators/transport/index.js';
import { waitFor } from '../../helpers/peers.js';
import { config, driverFor, startAedes } from '../mqtt/harness.js';
import type { Fixture } from './fixtures.js';

/**
 * The transport path of the ground-truth tests: the transport simulators publish over a real
 * MQTT broker (aedes on loopback), the MQTT driver decodes with the demo's discovery rules and
 * profiles, and the pipeline writes into the fixture's real store.
 */

export interface Retrieval {
  requested: number;
  completed?: number;
}

export interface Parcel {
  arrived: number;
  picked_up?: number;
  delivered?: number;
}

export interface TransportTruth {
  garage: { retrievals: Retrieval[]; completed: number };
  lockers: { parcels: Parcel[]; reached_resident: number };
  doors: { granted: number; denied: number; forced: number; held_open: number };
}

const NO_FAULTS = { malformed_json: 0, wrong_type: 0, missing_field: 0, duplicate: 0, bad_timestamp: 0, oversize: 0 };

export interface TransportRig {
  groups: ReturnType<typeof transportGroups>;
  truth(): TransportTruth;
  /** Wait until the broker acknowledged everything and the driver handled every message. */
  settle(): Promise<void>;
  stop(): Promise<void>;
}

/** Simulators (a garage, two locker banks and the logistics platform, doors) → MQTT → driver → store. */
export async function transportRig(
  fx: Fixture,
  /** Called once the broker and driver are up, so an accelerated clock starts with the simulators. */
  clockAfterStart: () => Clock,
  o: { speed: number; tick: string; parcelsPerDay: number; doors: number; seed?: number },
): Promise<TransportRig> {
  const broker = await startAedes();
  const rules = loadConfig('config/demo.yaml').discover.filter((r) => r.connection === 'community-mqtt').map((r) => ({ ...r, connection: 'local' }));
  const cfg = config(`connections: [{ id: local, protocol: mqtt, url: "${broker.url}" }]`);
  const ctx: DriverContext = {
    site: 'test',
    clock: { now: () => Date.now() },
    log: pino({ level: 'silent' }),
    dataDir: '/tmp',
    ingest: async (b) => fx.write(b.readings ?? [], b.events ?? []),
    reject: () => undefined,
    addDevice: (d) => (fx.devices([{ id: d.id, class: d.class, tags: d.tags }]), true),
    metrics: { pollLatency: () => {}, linkError: () => {}, messages: () => {} },
  };
  const driver = driverFor({ ...cfg, discover: rules }, ctx);
  await driver.start();
  const scenario = transportSchema.parse({
    parking: { spaces: 0, chargers: 0 },
    gates: 0,
    garage: { spaces: 60, lifts: 2 },
    lockers: { banks: 2, compartments: 40, parcels_per_day: o.parcelsPerDay },
    doors: o.doors,
    water: { potable: 0, reclaimed: 0, rainwater: 0 },
    faults: NO_FAULTS,
    tick: o.tick,
  });
  const clock = clockAfterStart();
  const groups = transportGroups(scenario, { clock, speed: o.speed, seed: o.seed ?? 11, log: pino({ level: 'silent' }), site: 'test', latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai', mqttUrl: broker.url });
  for (const g of groups) await g.start();
  let stopped = false;
  return {
    groups,
    truth: () => Object.assign({}, ...groups.map((g) => g.groundTruth())) as TransportTruth,
    async settle() {
      await Promise.all(groups.map((g) => g.drain(10_000)));
      const published = groups.reduce((n, g) => n + (g.groundTruth() as { messages: { published: number } }).messages.published, 0);
      await waitFor(() => (driver.health().counters?.['messages'] ?? 0) >= published, 10_000);
      await new Promise((r) => setTimeout(r, 200)); // the last batch's commit
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const g of groups) await g.stop();
      await driver.stop();
      await broker.stop();
    },
  };
}

/** The first `n` by completion time are the ones the simulator had reported when it stopped. */
export function reported<T>(all: T[], end: (x: T) => number | undefined, n: number): Set<T> {
  return new Set(all.filter((x) => end(x) !== undefined).sort((a, b) => (end(a) as number) - (end(b) as number)).slice(0, n));
}

/** Nearest-rank p95 (s) and the share within the promise, open starts counting as failures. */
export function expected(durationsMs: number[], open: number, promiseS: number): { p95: number | null; within: number } {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const p = percentile([...sorted, ...Array.from({ length: open }, () => Number.POSITIVE_INFINITY)], 0.95) as number;
  return {
    p95: Number.isFinite(p) ? p / 1000 : null,
    within: sorted.filter((d) => d <= promiseS * 1000).length / (sorted.length + open),
  };
}
