import mqtt from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { ModbusTcpSimServer } from '../../../simulators/servers/modbus-tcp.js';
import { waterMeterServer } from '../modbus/harness.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { rawSeries } from '../../../gateway/store/queries.js';

/**
 * A reload applied per connection (LESSONS.md: "validate the whole new config first; apply per
 * device; keep buffers"): only the link whose devices changed restarts. The Modbus link next to
 * it keeps its TCP connection and its poll period, and a device publishing through the embedded
 * broker while its connection is swapped loses nothing.
 */
const cleanup = cleanupsAfterEach();

interface Setup {
  gw: Gateway;
  server: ModbusTcpSimServer;
  config(extra: { mqttDevices?: string[]; poll?: string; siteName?: string; lossMax?: number; sinks?: string }): ReturnType<typeof parseConfig>;
  mqttPort: number;
  count(device: string, metric: string): number;
}

async function setup(): Promise<Setup> {
  const t = tempDir('fcgw-reconf-');
  cleanup(t.cleanup);
  const server = await waterMeterServer(0.001, 100);
  cleanup(() => server.stop());
  const mqttPort = await freePort();
  const config: Setup['config'] = ({ mqttDevices = ['meter-1'], poll = '200ms', siteName = 'Alpha', lossMax = 0.1, sinks = '[]' }) =>
    parseConfig(
      `version: 1
site: { id: reconf, name: ${siteName} }
store: { path: ${join(t.dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${mqttPort} } }
api: { host: 127.0.0.1, port: 0 }
connections:
  - { id: local, protocol: mqtt, url: embedded }
  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${server.port}, timeout: 500ms }
devices:
${mqttDevices.map((id) => `  - { id: ${id}, class: grid_meter, connection: local, profile: generic-json }`).join('\n')}
  - { id: wm-1, class: water_meter, connection: plant, profile: modbus-water-meter, unit: 1, poll: ${poll} }
targets: [{ kpi: water_loss_ratio, window: day, max: ${lossMax} }]
sinks: ${sinks}
`,
      'reconf.yaml',
      {},
    );
  const gw = Gateway.create({ config: config({}), log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
  await gw.start();
  cleanup(() => gw.stop());
  const count = (device: string, metric: string) => rawSeries(gw.store, device, metric, 0, Number.MAX_SAFE_INTEGER).length;
  return { gw, server, config, mqttPort, count };
}

describe('config reload applied per connection', () => {
  it('restarts only the changed link; the Modbus link keeps its socket and period; nothing published meanwhile is lost', async () => {
    const { gw, server, config, mqttPort, count } = await setup();
    await waitFor(() => count('wm-1', 'volume_total') >= 3, 10_000);
    const plant = gw.driver('plant');
    const local = gw.driver('local');
    expect(server.accepted).toBe(1);

    // A device keeps publishing (QoS 1) through the whole reload; every acknowledged message must be stored.
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
    let acked = 0;
    let sending = true;
    const t0 = Date.now();
    const publisher = (async () => {
      for (let i = 0; sending && i < 5_000; i++) {
        await pub.publishAsync('devices/meter-1/up', JSON.stringify({ ts: t0 + i, values: { power: i } }), { qos: 1 });
        acked++;
      }
    })();
    await waitFor(() => acked >= 20, 5_000);

    // meter-2 is unknown: refused, counted, nothing stored.
    await pub.publishAsync('devices/meter-2/up', JSON.stringify({ ts: t0, values: { power: 7 } }), { qos: 1 });
    expect(count('meter-2', 'power')).toBe(0);

    const before = count('wm-1', 'volume_total');
    const result = await gw.reconfigure(config({ mqttDevices: ['meter-1', 'meter-2'] }));
    expect(result).toEqual({ applied: true, restarted: ['local'], unchanged: ['plant'], kpi: false, sinks: false });
    expect(gw.driver('plant')).toBe(plant);
    expect(gw.driver('local')).not.toBe(local);
    expect(gw.config.devices.map((d) => d.id)).toEqual(['meter-1', 'meter-2', 'wm-1']);

    await pub.publishAsync('devices/meter-2/up', JSON.stringify({ ts: t0 + 1, values: { power: 8 } }), { qos: 1 });
    expect(count('meter-2', 'power')).toBe(1);
    await waitFor(() => acked >= 200, 10_000);
    sending = false;
    await publisher;
    await pub.endAsync();
    // QoS 1 through the embedded broker: a PUBACK means committed.
    expect(count('meter-1', 'power')).toBe(acked);

    // The Modbus link was never touched: one TCP connection since start, and it kept polling.
    await waitFor(() => count('wm-1', 'volume_total') >= before + 3, 5_000);
    expect(server.accepted).toBe(1);

    // Its own change (a new poll period) restarts it alone: one new TCP connection.
    const slower = await gw.reconfigure(config({ mqttDevices: ['meter-1', 'meter-2'], poll: '300ms' }));
    expect(slower).toEqual({ applied: true, restarted: ['plant'], unchanged: ['local'], kpi: false, sinks: false });
    const n = count('wm-1', 'volume_total');
    await waitFor(() => count('wm-1', 'volume_total') > n, 5_000);
    expect(server.accepted).toBe(2);
    expect(gw.driverHealth().map((d) => [d.connection, d.state])).toEqual([
      ['local', 'connected'],
      ['plant', 'connected'],
    ]);

    // The same config again changes nothing; another section cannot be applied per connection.
    expect(await gw.reconfigure(config({ mqttDevices: ['meter-1', 'meter-2'], poll: '300ms' }))).toEqual({ applied: true, restarted: [], unchanged: ['local', 'plant'], kpi: false, sinks: false });

    // A new target bound: a new KPI engine, every link untouched.
    const kpiRow = async () =>
      ((await (await fetch(`${gw.apiUrl}/api/kpis?window=day`)).json()) as { kpi: string; target?: { max?: number } }[]).find((r) => r.kpi === 'water_loss_ratio' && r.target);
    expect((await kpiRow())?.target?.max).toBe(0.1);
    const links = [gw.driver('local'), gw.driver('plant')];
    expect(await gw.reconfigure(config({ mqttDevices: ['meter-1', 'meter-2'], poll: '300ms', lossMax: 0.15 }))).toEqual({ applied: true, restarted: [], unchanged: ['local', 'plant'], kpi: true, sinks: false });
    expect((await kpiRow())?.target?.max).toBe(0.15);
    expect([gw.driver('local'), gw.driver('plant')]).toEqual(links);
    expect(server.accepted).toBe(2);

    // A new sink (MQTT northbound, from the start of the log): started alone; it sends what is stored.
    const north = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
    const got: { value: number }[] = [];
    north.on('message', (_t, p) => got.push(JSON.parse(p.toString()) as { value: number }));
    await north.subscribeAsync('fc/reconf/grid_meter/meter-2/power', { qos: 1 });
    const sink = '[{ id: north, type: mqtt, connection: local, topic_prefix: "fc/{site}", start_from: earliest, flush_interval: 50ms }]';
    expect(await gw.reconfigure(config({ mqttDevices: ['meter-1', 'meter-2'], poll: '300ms', lossMax: 0.15, sinks: sink }))).toEqual({ applied: true, restarted: [], unchanged: ['local', 'plant'], kpi: false, sinks: true });
    await waitFor(() => got.length >= 1, 10_000);
    expect(got.map((m) => m.value)).toEqual([8]);
    // The new sink settles ok (right after its first send it may still say `waiting` for a moment under load).
    await waitFor(() => (gw.health().sinks[0] as { state?: string } | undefined)?.state === 'ok', 5_000).catch(() => undefined);
    expect(gw.health().sinks).toMatchObject([{ id: 'north', state: 'ok' }]);
    expect([gw.driver('local'), gw.driver('plant')]).toEqual(links);
    await north.endAsync();
    expect(await gw.reconfigure(config({ mqttDevices: ['meter-1', 'meter-2'], poll: '300ms', lossMax: 0.15, sinks: sink, siteName: 'Beta' }))).toEqual({ applied: false, reason: 'changed: site' });
    expect(gw.config.site.name).toBe('Alpha');
  }, 60_000);

  it('removes a device with its connection and refuses a config whose driver rejects it, keeping the running one', async () => {
    const { gw, config, count } = await setup();
    await waitFor(() => count('wm-1', 'volume_total') >= 1, 10_000);
    const running = gw.config;
    // A class its profile does not serve passes the schema but not the one validation (gateway/site).
    const bad = config({});
    const broken = { ...bad, devices: bad.devices.map((d) => (d.id === 'wm-1' ? { ...d, class: 'heat_pump' } : d)) } as typeof bad;
    await expect(gw.reconfigure(broken)).rejects.toThrow(/devices\[\d\]\.class: profile "modbus-water-meter" serves water_meter, not heat_pump/);
    expect(gw.config).toBe(running);
    expect(gw.devices.get('wm-1')?.config.class).toBe('water_meter');
    expect(gw.driver('plant')?.health().devices.map((d) => d.id)).toEqual(['wm-1']);
    const n = count('wm-1', 'volume_total');
    await waitFor(() => count('wm-1', 'volume_total') > n, 5_000);

    const gone = config({});
    const without = { ...gone, devices: gone.devices.filter((d) => d.id !== 'wm-1') } as typeof gone;
    expect(await gw.reconfigure(without)).toEqual({ applied: true, restarted: ['plant'], unchanged: ['local'], kpi: false, sinks: false });
    expect(gw.devices.get('wm-1')).toBeUndefined();
    // No driver lists it any more.
    expect(gw.health().drivers.flatMap((d) => (d as { devices: { id: string }[] }).devices.map((x) => x.id))).not.toContain('wm-1');
    expect(gw.deviceViews().map((d) => d.id)).toEqual(['meter-1']);
    const stopped = count('wm-1', 'volume_total');
    await new Promise((r) => setTimeout(r, 600));
    expect(count('wm-1', 'volume_total')).toBe(stopped);
  }, 60_000);
});
