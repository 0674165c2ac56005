import { join } from 'node:path';
import pino from 'pino';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { loadConfig } from '../../../gateway/config/load.js';
import { AcceleratedClock, type Clock } from '../../../gateway/model/clock.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Ingestor } from '../../../gateway/pipeline/ingest.js';
import { Dedupe } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { GatewayMetrics } from '../../../gateway/runtime/metrics.js';
import { Store } from '../../../gateway/store/store.js';
import { transportGroups, transportSchema } from '../../../simulators/transport/index.js';
import type { PublishingGroup } from '../../../simulators/transport/group.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { config, driverFor, startAedes } from '../mqtt/harness.js';

/**
 * The real MQTT path for late-data tests: transport simulators publish to a real aedes broker on
 * loopback, the MQTT driver decodes with the demo's discovery rules and profiles, and the real
 * ingest queue (normalise, counters against the store's history, identity) commits to a store on
 * a temp file, counting duplicates and rejections in real gateway metrics. The clock is
 * accelerated; the driver, the pipeline and the simulators share it.
 */

export const NO_FAULTS = { malformed_json: 0, wrong_type: 0, missing_field: 0, duplicate: 0, bad_timestamp: 0, oversize: 0 };

export interface LateRig {
  store: Store;
  metrics: GatewayMetrics;
  groups: PublishingGroup[];
  clock: Clock;
  brokerUrl: string;
  driver: ReturnType<typeof driverFor>;
  truth(): Record<string, unknown>;
  /** Send what late sources hold, wait until the broker acknowledged all and the driver handled it. */
  settle(): Promise<void>;
  /** A metric's value by its labels (`kind="sample"`), 0 when absent. */
  metric(name: string, labels?: string): Promise<number>;
  stop(): Promise<void>;
}

/** `end`: the simulated time the clock stops at (so two runs of one day end at the same instant). */
export async function lateRig(o: { start: number; end?: number; speed: number; scenario: Record<string, unknown>; seed?: number }): Promise<LateRig> {
  const t = tempDir('fcgw-late-');
  const store = Store.open({ path: join(t.dir, 'gw.db'), site: 'late' });
  const metrics = new GatewayMetrics({ defaults: false });
  const classes = new Map<string, string>();
  const log = pino({ level: 'silent' });
  const holder: { clock: Clock } = { clock: { now: () => o.start } };
  const clock: Clock = { now: () => holder.clock.now() };
  const ingestor = new Ingestor({
    store,
    metrics,
    log,
    maxRows: 5_000,
    queueMax: 50_000,
    normalise: {
      site: 'late',
      deviceClass: (id) => classes.get(id),
      counters: new CounterState(),
      dedupe: new Dedupe(),
      pseudo: new Pseudonymiser(Buffer.alloc(32, 7)),
      now: () => clock.now(),
      history: store.history(),
    },
  });
  const broker = await startAedes();
  const rules = loadConfig('config/demo.yaml').discover.filter((r) => r.connection === 'community-mqtt').map((r) => ({ ...r, connection: 'local' }));
  const ctx: DriverContext = {
    site: 'late',
    clock,
    log,
    dataDir: t.dir,
    ingest: (b) => ingestor.submit(b),
    reject: (r) => ingestor.reject(r),
    addDevice: (d, profile) => {
      classes.set(d.id, d.class);
      store.upsertDevice({ id: d.id, class: d.class, connection: 'local', profile: profile.id, tags: d.tags, discovered: true });
      return true;
    },
    metrics: { pollLatency: () => {}, linkError: () => {}, messages: () => {} },
  };
  const driver = driverFor({ ...config(`connections: [{ id: local, protocol: mqtt, url: "${broker.url}" }]`), discover: rules }, ctx);
  await driver.start();
  const scenario = transportSchema.parse({
    parking: { spaces: 0, chargers: 0 },
    gates: 0,
    garage: { spaces: 0 },
    lockers: { banks: 0 },
    doors: 0,
    water: { potable: 0, reclaimed: 0, rainwater: 0 },
    faults: NO_FAULTS,
    tick: '100ms',
    ...o.scenario,
  });
  // The simulators take the clock's time as their start: they are built while it still reads
  // `start`, so two runs of one seed step the same simulated instants however slow the machine is
  // (built after the accelerated clock, a busy machine shifted every step by seconds of wall time,
  // hours of simulated time at this speed, and the day's parcels with them).
  const groups = transportGroups(scenario, { clock, speed: o.speed, seed: o.seed ?? 19, log, site: 'late', latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai', mqttUrl: broker.url });
  const accelerated = new AcceleratedClock(o.start, o.speed);
  const end = o.end ?? Number.POSITIVE_INFINITY;
  holder.clock = { now: () => Math.min(end, accelerated.now()) };
  for (const g of groups) await g.start();
  let stopped = false;
  return {
    store,
    metrics,
    groups,
    clock,
    brokerUrl: broker.url,
    driver,
    truth: () => Object.assign({}, ...groups.map((g) => g.groundTruth())) as Record<string, unknown>,
    async settle() {
      for (const g of groups) g.release();
      await Promise.all(groups.map((g) => g.drain(10_000)));
      const published = groups.reduce((n, g) => n + (g.groundTruth() as { messages: { published: number } }).messages.published, 0);
      await waitFor(() => (driver.health().counters?.['messages'] ?? 0) >= published, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      ingestor.flush();
    },
    async metric(name, labels) {
      const text = await metrics.registry.metrics();
      const re = new RegExp(`^${name}${labels ? `\\{${labels.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\}` : ''} (\\d+)$`, 'm');
      return Number(re.exec(text)?.[1] ?? 0);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const g of groups) await g.stop();
      await driver.stop();
      ingestor.close();
      await broker.stop();
      store.close();
      t.cleanup();
    },
  };
}
