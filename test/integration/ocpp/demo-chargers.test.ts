import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { loadConfig } from '../../../gateway/config/load.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { ocppConnectionSchema, ocppDriverFactory, type OcppDriver } from '../../../drivers/ocpp/index.js';
import { loadProfiles, profilesOf } from '../../../gateway/site/profiles.js';
import { transportSchema, transportSimulators } from '../../../simulators/transport/index.js';
import { tempDir } from '../../helpers/peers.js';
import { Fixture, HOUR, MIN, testConfig } from '../kpi/fixtures.js';
import { startAedes } from '../mqtt/harness.js';

/**
 * The demo's chargers as OCPP 1.6-J charge points (simulators/servers/ocpp-charge-points.ts, on
 * ocpp-rpc's client) → the OCPP driver with the demo's discovery rule → pipeline → store →
 * KPIs, stepped through a community day (10:00–18:00): the session energy the central system
 * recorded equals the charger model's ground truth (to the Wh of the meters), and so does the
 * chargers' utilisation.
 */
const fx = new Fixture();
afterAll(() => fx.close());

interface ChargerTruth {
  at: number;
  sessions: number;
  completed_sessions: number;
  completed_wh: Record<string, number>;
  charging_s_now: Record<string, number>;
}

describe('demo chargers over OCPP-J → KPIs', () => {
  it('session energy and charger utilisation equal ground truth', async () => {
    const start = Date.parse('2024-11-22T10:00:00+08:00');
    const data = tempDir('fcgw-ocpp-demo-');
    const rule = loadConfig('config/demo.yaml').discover.find((r) => r.profile === 'ocpp16-charger');
    expect(rule, 'config/demo.yaml discovers OCPP chargers').toBeDefined();
    if (!rule) return;
    const { profiles } = loadProfiles([ocppDriverFactory]);
    const clock = new ManualClock(start);
    const ctx: DriverContext = {
      site: 'test',
      clock,
      log: pino({ level: 'silent' }),
      dataDir: data.dir,
      ingest: async (b) => fx.write(b.readings ?? [], b.events ?? []),
      reject: (r) => {
        throw new Error(`unexpected refusal: ${r.reason} ${r.detail}`);
      },
      addDevice: (d) => (fx.devices([{ id: d.id, class: d.class, tags: d.tags }]), true),
      metrics: { pollLatency: () => {}, linkError: () => {}, messages: () => {} },
    };
    const connection = ocppConnectionSchema.parse({ id: rule.connection, protocol: 'ocpp', host: '127.0.0.1', port: 0, security_profile: 0 });
    const driver = ocppDriverFactory.create({ connection, devices: [], discover: [rule], profiles: profilesOf(profiles, ocppDriverFactory), ctx }) as OcppDriver;
    await driver.start();
    const broker = await startAedes();
    const scenario = transportSchema.parse({
      parking: { spaces: 300, chargers: 40, ocpp: { port: driver.address()?.port } },
      gates: 0,
      garage: { enabled: false },
      lockers: { banks: 0 },
      doors: 0,
      water: { potable: 0, reclaimed: 0, rainwater: 0 },
      faults: {},
      tick: '1h', // stepped by hand below
    });
    const sims = transportSimulators(scenario, { clock, speed: 3600, seed: 7, log: pino({ level: 'silent' }), site: 'test', latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai', mqttUrl: broker.url });
    const points = sims.chargePoints;
    expect(points).toBeDefined();
    if (!points) return;
    let truth: ChargerTruth;
    try {
      await points.start();
      for (const g of sims.publishing) await g.start();
      // 10:00–18:00 a simulated minute at a time; each step waits until every call is answered,
      // so the gateway's clock is the chargers' clock (a heartbeat is stamped on arrival).
      for (let t = start + MIN; t <= start + 8 * HOUR; t += MIN) {
        clock.set(t);
        for (const g of sims.publishing) g.tick();
        await points.drain();
      }
      for (const g of sims.publishing) await g.stop();
      truth = (sims.publishing[0]?.groundTruth() as { chargers: ChargerTruth }).chargers;
      expect((points.groundTruth() as { call_errors: number }).call_errors).toBe(0);
    } finally {
      await points.stop();
      await driver.stop();
      await broker.stop();
      data.cleanup();
    }

    expect(truth.completed_sessions).toBeGreaterThan(1);
    expect(truth.sessions).toBeGreaterThan(10);
    const events = fx.store.eventsAfter(0, 100_000);
    const stopped = events.filter((e) => e.type === 'charging_stopped');
    expect(stopped).toHaveLength(truth.completed_sessions);
    // A session the model began whose plug-in is still ahead of the clock has not started yet.
    const started = events.filter((e) => e.type === 'charging_started').length;
    expect(started).toBeGreaterThanOrEqual(truth.completed_sessions);
    expect(started).toBeLessThanOrEqual(truth.sessions);
    // Session energy per charger: meter readings are whole Wh, so each session may differ by < 1 Wh.
    for (const [id, wh] of Object.entries(truth.completed_wh)) {
      const sessions = stopped.filter((e) => e.device === id);
      const got = sessions.reduce((n, e) => n + (e.attributes['energy'] as number), 0);
      expect(Math.abs(got - wh), `${id}: ${got} Wh stored, ${wh} Wh delivered`).toBeLessThanOrEqual(sessions.length);
    }

    // Utilisation over the evening: time charging / time available, from the stored statuses.
    const day = windowAt('day', start, 'Asia/Shanghai');
    const pass = new KpiPass(fx.store.kpiReads(), truth.at, calculatorOptions(testConfig()));
    const got = new Map(pass.compute(day, { site: true }).map((r) => [r.kpi, r]));
    const chargingS = Object.values(truth.charging_s_now).reduce((a, b) => a + b, 0);
    const availableS = (Object.keys(truth.charging_s_now).length * (truth.at - start)) / 1000;
    expect(got.get('charger_utilisation')?.value).toBeCloseTo(chargingS / availableS, 9);
    // Heartbeats bridge the quiet hours: the whole run is covered (the day began before it).
    expect(got.get('charger_utilisation')?.coverage).toBeCloseTo((truth.at - start) / (truth.at - day.start), 9);
    expect(truth.at - start).toBeGreaterThan(4 * HOUR);
  }, 40_000);
});
