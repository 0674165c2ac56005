import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { loadConfig } from '../../../gateway/config/load.js';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { percentile } from '../../../gateway/kpi/events.js';
import { KpiQueries } from '../../../gateway/kpi/queries.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import { transportGroups, transportSchema } from '../../../simulators/transport/index.js';
import { waitFor } from '../../helpers/peers.js';
import { config, driverFor, startAedes } from '../mqtt/harness.js';
import { Fixture, HOUR, testConfig } from './fixtures.js';

/**
 * Ground truth from the transport simulators: the garage, lockers and doors publish over a real
 * MQTT broker, the MQTT driver decodes with the demo's discovery rules and profiles, the pipeline
 * stores into a real store, and the event KPIs of the (closed) day equal what the simulators
 * recorded, exactly. No faults are injected: nothing is lost.
 */

interface Retrieval { requested: number; completed?: number }
interface Parcel { arrived: number; picked_up?: number; delivered?: number }

const fx = new Fixture();
afterAll(() => fx.close());

/** The first `n` by completion time are the ones the simulator had reported when it stopped. */
function reported<T>(all: T[], end: (x: T) => number | undefined, n: number): Set<T> {
  return new Set(all.filter((x) => end(x) !== undefined).sort((a, b) => (end(a) as number) - (end(b) as number)).slice(0, n));
}

function expected(durationsMs: number[], open: number, promiseS: number) {
  const sorted = [...durationsMs].sort((a, b) => a - b);
  const p = percentile([...sorted, ...Array.from({ length: open }, () => Number.POSITIVE_INFINITY)], 0.95) as number;
  return {
    p95: Number.isFinite(p) ? p / 1000 : null,
    within: sorted.filter((d) => d <= promiseS * 1000).length / (sorted.length + open),
  };
}

describe('transport simulators → MQTT → store → KPIs', () => {
  it('event KPIs of the day equal the simulators’ ground truth', async () => {
    const broker = await startAedes();
    try {
      const rules = loadConfig('config/demo.yaml').discover.map((r) => ({ ...r, connection: 'local' }));
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

      const start = Date.parse('2024-11-22T06:00:00+08:00');
      const clock = new AcceleratedClock(start, 3600);
      const none = { malformed_json: 0, wrong_type: 0, missing_field: 0, duplicate: 0, out_of_order: 0, oversize: 0 };
      const scenario = transportSchema.parse({
        parking: { spaces: 0, chargers: 0 },
        gates: 0,
        garage: { spaces: 60, lifts: 2 },
        lockers: { banks: 2, compartments: 40, parcels_per_day: 600 },
        doors: 6,
        water: { potable: 0, reclaimed: 0, rainwater: 0 },
        faults: none,
        tick: '100ms',
      });
      const groups = transportGroups(scenario, { clock, speed: 3600, seed: 11, log: pino({ level: 'silent' }), site: 'test', latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai', mqttUrl: broker.url });
      for (const g of groups) await g.start();
      await new Promise((r) => setTimeout(r, 5_000)); // ~5 simulated hours: the morning
      await Promise.all(groups.map((g) => g.drain(10_000)));
      for (const g of groups) await g.stop();
      const published = groups.reduce((n, g) => n + (g.groundTruth() as { messages: { published: number } }).messages.published, 0);
      await waitFor(() => (driver.health().counters?.['messages'] ?? 0) >= published, 10_000);
      await new Promise((r) => setTimeout(r, 200));
      await driver.stop();

      const truth = Object.assign({}, ...groups.map((g) => g.groundTruth())) as {
        garage: { retrievals: Retrieval[]; completed: number };
        lockers: { parcels: Parcel[]; reached_resident: number };
        doors: { granted: number; denied: number; forced: number; held_open: number };
      };
      const day = windowAt('day', start, 'Asia/Shanghai');
      const pass = new KpiPass(new KpiQueries(fx.store.db), day.end + HOUR, calculatorOptions(testConfig()));
      const got = new Map(pass.compute(day, { site: true }).map((r) => [r.kpi, r]));

      const rs = truth.garage.retrievals.filter((r) => r.requested >= day.start && r.requested < day.end);
      const doneR = reported(rs, (r) => r.completed, truth.garage.completed);
      expect(rs.length).toBeGreaterThan(20);
      const car = expected([...doneR].map((r) => (r.completed as number) - r.requested), rs.length - doneR.size, 300);
      expect(car.p95).not.toBeNull();
      expect(got.get('car_retrieval_time_p95')?.value).toBe(car.p95);
      expect(got.get('car_retrieval_within_5min')?.value).toBe(car.within);
      expect(got.get('car_retrieval_time_p95')?.open).toBe(rs.length - doneR.size);

      const ps = truth.lockers.parcels.filter((p) => p.arrived >= day.start && p.arrived < day.end);
      const reach = (p: Parcel) => p.picked_up ?? p.delivered;
      const doneP = reported(ps, reach, truth.lockers.reached_resident);
      expect(ps.length).toBeGreaterThan(50);
      const parcel = expected([...doneP].map((p) => (reach(p) as number) - p.arrived), ps.length - doneP.size, 1800);
      expect(got.get('parcel_within_30min')?.value).toBe(parcel.within);
      expect(got.get('parcel_to_door_time_p95')?.value).toBe(parcel.p95);
      // Most parcels wait for residents coming home in the evening: at the p95 rank they are still open.
      expect(got.get('parcel_to_door_time_p95')?.beyond ?? false).toBe(parcel.p95 === null);

      const d = truth.doors;
      expect(got.get('access_denied_rate')?.value).toBe(d.denied / (d.granted + d.denied));
      expect(got.get('door_forced_count')?.value).toBe(d.forced);
      expect(got.get('door_held_open_count')?.value).toBe(d.held_open);
    } finally {
      await broker.stop();
    }
  }, 40_000);
});
