import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../../gateway/api/server.js';
import { LiveHub } from '../../../gateway/api/live.js';
import { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { kpiApiPlugin } from '../../../gateway/api/kpi-routes.js';
import { createKpiEngine, type AlertView, type KpiEngine } from '../../../gateway/kpi/index.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { GatewayMetrics } from '../../../gateway/runtime/metrics.js';
import { Store } from '../../../gateway/store/store.js';
import { freePort, waitFor } from '../../helpers/peers.js';
import { counterReadings, Fixture, HOUR, MARCH_1, MIN, SITE, testConfig } from './fixtures.js';

/**
 * Targets and alerts end to end: transitions with hysteresis, alerts on the API, on MQTT
 * (fc/{site}/alerts through a real broker) and in the log, surviving a restart.
 */

const CONTRACT = 50_000;
// Import power: 20 kW, then 60 kW from 10:15, 48 kW from 10:45, 40 kW from 11:05; offline 12:00–13:00.
const power = (t: number) => {
  const m = (t - MARCH_1) / MIN;
  if (m < 615) return 20_000;
  if (m < 645) return 60_000;
  if (m < 665) return 48_000;
  return 40_000;
};
const offline = (t: number) => t >= MARCH_1 + 12 * HOUR && t < MARCH_1 + 13 * HOUR;
const at = (h: number, m = 0) => MARCH_1 + h * HOUR + m * MIN;

const cfg = testConfig({
  kpi: { contract_demand: CONTRACT },
  targets: [{ kpi: 'peak_demand', window: '15m', max: CONTRACT, hysteresis: 5_000 }],
});

let fx: Fixture;
let broker: EmbeddedBroker;
let client: mqtt.MqttClient;
const received: Record<string, unknown>[] = [];
const logged: { msg: string; alert?: AlertView }[] = [];
const live: AlertView[] = [];
const clock = new ManualClock(at(10));
const log = pino({ level: 'info' }, { write: (s: string) => void logged.push(JSON.parse(s) as { msg: string }) });

function engineOn(store: Store): KpiEngine {
  return createKpiEngine({
    config: cfg,
    store,
    clock,
    log,
    publish: (topic, payload) => broker.publish(topic, payload, { qos: 1 }),
    onAlert: (a) => live.push(a),
  });
}

beforeAll(async () => {
  fx = new Fixture([{ id: 'grid-main', class: 'grid_meter', tags: { role: 'master' } }]);
  fx.write(counterReadings('grid-main', 'import_total', power, at(9), at(15), { start: 300_000_000, skip: offline }));
  broker = new EmbeddedBroker(testConfig({ broker: { embedded: { port: await freePort() } } }).broker.embedded!, pino({ level: 'silent' }));
  await broker.start();
  client = await mqtt.connectAsync(broker.url);
  await client.subscribeAsync(`fc/${SITE}/alerts`, { qos: 1 });
  client.on('message', (_t, p) => received.push(JSON.parse(p.toString()) as Record<string, unknown>));
});

afterAll(async () => {
  await client?.endAsync();
  await broker?.stop();
  fx?.close();
});

const statuses = (e: KpiEngine) => e.alerts().map((a) => `${a.status}${a.active ? '*' : ''}`);

describe('KPI targets and alerts', () => {
  let engine: KpiEngine;

  it('met while demand is under the contract', () => {
    engine = engineOn(fx.store);
    engine.evaluate(clock.now());
    expect(engine.alerts()).toEqual([]);
    const row = engine.kpis('15m').find((r) => r.kpi === 'peak_demand' && r.target);
    expect(row?.status).toBe('met');
    expect(row?.value).toBeCloseTo(20_000, -1);
  });

  it('crossing the contract raises one alert: API, MQTT and the log', async () => {
    clock.set(at(10, 40));
    engine.evaluate();
    clock.set(at(10, 41));
    engine.evaluate();
    expect(statuses(engine)).toEqual(['missed*']);
    const [a] = engine.alerts();
    expect(a).toMatchObject({ kpi: 'peak_demand', window: '15m', scope: 'site', status: 'missed', previous: 'met', target: { max: CONTRACT, bound: '≤ 50000' } });
    expect(a?.value).toBeCloseTo(60_000, -1);
    await waitFor(() => received.length === 1);
    expect(received[0]).toMatchObject({ kpi: 'peak_demand', status: 'missed', target: { max: CONTRACT } });
    expect(typeof received[0]?.['ts']).toBe('number');
    expect(logged.some((l) => l.alert?.status === 'missed' && l.msg.includes('peak_demand'))).toBe(true);
    expect(live.map((x) => x.status)).toEqual(['missed']);
  });

  it('survives a restart: the new engine knows the alert and does not raise it again', () => {
    engine.stop();
    fx.store.close();
    const reopened = Store.open({ path: fx.path, site: SITE });
    (fx as { store: Store }).store = reopened;
    engine = engineOn(reopened);
    clock.set(at(10, 44));
    engine.evaluate();
    expect(statuses(engine)).toEqual(['missed*']);
  });

  it('back inside the bound but not by the hysteresis: still missed', () => {
    clock.set(at(11, 4)); // the last 15 minutes were at 48 kW: ≤ 50 kW, but not ≤ 45 kW
    engine.evaluate();
    expect(statuses(engine)).toEqual(['missed*']);
    expect(engine.kpis('15m').find((r) => r.target)?.status).toBe('missed');
  });

  it('clears once inside by the hysteresis', async () => {
    clock.set(at(11, 30));
    engine.evaluate();
    expect(statuses(engine)).toEqual(['met']);
    expect(engine.alerts()[0]?.cleared_at).toBeDefined();
    await waitFor(() => received.length === 2);
    expect(received[1]).toMatchObject({ status: 'met', active: false });
  });

  it('a meter that goes quiet makes the target unknown (a data alert), never a confident number', () => {
    clock.set(at(12, 40));
    engine.evaluate();
    expect(statuses(engine)).toEqual(['unknown*', 'met']);
    expect(engine.alerts()[0]).toMatchObject({ status: 'unknown', reason: 'low_coverage' });
    clock.set(at(13, 30));
    engine.evaluate();
    expect(statuses(engine)).toEqual(['met', 'met']);
  });

  it('serves GET /api/kpis and GET /api/alerts, 400 on a bad window', async () => {
    const app = await buildApi(
      {
        store: fx.store,
        metrics: new GatewayMetrics({ defaults: false }),
        clock,
        log: pino({ level: 'silent' }),
        live: new LiveHub(),
        tokens: [],
        health: () => ({ status: 'ok', site: SITE, uptime_s: 0, drivers: [], sinks: [], store: {} }),
        devices: () => [],
      },
      [kpiApiPlugin(() => engine)],
    );
    try {
      const kpis = await app.inject({ method: 'GET', url: `/api/kpis?window=day&at=${encodeURIComponent('2024-03-01T12:00:00+08:00')}` });
      expect(kpis.statusCode).toBe(200);
      const rows = kpis.json() as { kpi: string; window: string; status: string; coverage: number; start: string; target?: unknown }[];
      expect(rows.find((r) => r.kpi === 'grid_import')).toMatchObject({ window: 'day', scene: 'low_carbon', unit: 'Wh', start: '2024-03-01T00:00:00+08:00' });
      // The only peak target is on the rolling window: the day row has none.
      expect(rows.find((r) => r.kpi === 'peak_demand')).toMatchObject({ status: 'unknown', reason: 'no_target' });
      const rolling = (await app.inject({ method: 'GET', url: '/api/kpis?window=15m' })).json() as { kpi: string; status: string; target?: unknown }[];
      expect(rolling.filter((r) => r.kpi === 'peak_demand' && r.target)).toMatchObject([{ status: 'met', target: { max: CONTRACT, hysteresis: 5000 } }]);
      const alerts = await app.inject({ method: 'GET', url: '/api/alerts' });
      expect(alerts.json()).toMatchObject({ active: 0, alerts: [{ status: 'met' }, { status: 'met' }] });
      const bad = await app.inject({ method: 'GET', url: '/api/kpis?window=fortnight' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json()).toMatchObject({ error: { code: 'BAD_PARAMETER' } });
    } finally {
      await app.close();
    }
  });

  it('start/stop run the evaluator on the injected clock, and stop is idempotent', async () => {
    const before = engine.alerts().length;
    clock.set(at(12, 30));
    engine.start();
    await waitFor(() => engine.alerts().length > before, 5000);
    engine.stop();
    engine.stop();
    expect(engine.alerts()[0]?.status).toBe('unknown');
  });

  it('a target no longer configured (removed, or its bound changed): its active alert is closed, saying why', async () => {
    expect(engine.alerts().filter((a) => a.active).map((a) => a.target.bound)).toEqual(['≤ 50000']);
    const changed = createKpiEngine({
      config: testConfig({ targets: [{ kpi: 'peak_demand', window: '15m', max: 70_000 }] }),
      store: fx.store,
      clock,
      log,
      publish: (topic, payload) => broker.publish(topic, payload, { qos: 1 }),
      onAlert: (a) => live.push(a),
    });
    changed.evaluate();
    const [closed] = changed.alerts();
    expect(closed).toMatchObject({ status: 'unknown', active: false, reason: 'target_removed', target: { bound: '≤ 50000' } });
    expect(closed?.message).toMatch(/^peak_demand \(15m from .+, site\) closed: target ≤ 50000 is no longer configured$/);
    expect(live.at(-1)).toMatchObject({ id: closed?.id, active: false, reason: 'target_removed' });
    const published = await waitFor(() => received.find((r) => r['reason'] === 'target_removed'));
    expect(published).toMatchObject({ id: closed?.id, active: false, status: 'unknown' });
    expect(changed.alerts().filter((a) => a.active)).toEqual([]);
  });
});
