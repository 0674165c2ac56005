import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { collector, config, driverFor } from './harness.js';
import { MOSQUITTO, startMosquitto, type Mosquitto } from './mosquitto.js';

const N = 300;
const msg = (i: number) => JSON.stringify({ ts: 1_732_250_000_000 + i * 1000, values: { volume_total: 100 + i / 10 } });

describe.skipIf(!MOSQUITTO)('MQTT driver against a real Mosquitto', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function broker(opts: { users?: Record<string, string>; tls?: boolean } = {}): Promise<Mosquitto> {
    const t = tempDir('fcgw-mosq-');
    const m = await startMosquitto({ dir: t.dir, ...opts });
    cleanups.push(t.cleanup, () => m.stop());
    return m;
  }

  it.each([4, 5] as const)('MQTT %s, user/password, persistent session: nothing is lost while the gateway is away or the broker restarts', async (version) => {
    const m = await broker({ users: { gw: 'gw-secret', dev: 'dev-secret' } });
    const c = collector();
    const cfg = config(`
connections: [{ id: ext, protocol: mqtt, url: "${m.url}", protocol_version: ${version}, username: gw, password: gw-secret, reconnect_min: 100ms, reconnect_max: 1s }]
devices: [{ id: wm-1, class: water_meter, connection: ext, profile: generic-json }]
`);
    let driver = driverFor(cfg, c.ctx);
    await driver.start();
    expect(driver.health().state).toBe('connected');
    const pub = await mqtt.connectAsync(m.url, { username: 'dev', password: 'dev-secret', protocolVersion: version, clientId: `dev-${version}`, clean: false, reconnectPeriod: 200 });
    cleanups.push(() => void pub.end(true));
    for (let i = 0; i < N / 3; i++) await pub.publishAsync('devices/wm-1/up', msg(i), { qos: 1 });
    await waitFor(() => c.readings.length === N / 3);

    // The gateway goes away; the broker keeps its session and queues for it.
    await driver.stop();
    for (let i = N / 3; i < (2 * N) / 3; i++) await pub.publishAsync('devices/wm-1/up', msg(i), { qos: 1 });
    driver = driverFor(cfg, c.ctx);
    await driver.start();
    await waitFor(() => c.readings.length === (2 * N) / 3);

    // The broker restarts (persistence on): the driver reconnects with backoff and gets the rest.
    await m.stop();
    await waitFor(() => driver.health().state === 'backoff');
    await m.start();
    await waitFor(() => driver.health().state === 'connected', 10_000);
    await waitFor(() => pub.connected, 10_000);
    for (let i = (2 * N) / 3; i < N; i++) await pub.publishAsync('devices/wm-1/up', msg(i), { qos: 1 });
    // Redelivered copies count in c.readings too: wait for N distinct readings, not N readings.
    const distinct = () => new Set(c.readings.map((r) => `${r.ts}/${String(r.value)}`)).size;
    await waitFor(() => distinct() >= N);
    // Redeliveries after the restart (PUBACKs the broker had not processed) are not bad input: the
    // copies the driver still remembers are counted as duplicates, the others go on to the store,
    // which keeps each reading once by series, time and value (a late message that was in flight
    // is never taken for a copy because it is older). Every reading arrived, in order.
    expect(c.rejections.filter((r) => r.reason !== 'duplicate')).toEqual([]);
    const once = [...new Map(c.readings.map((r) => [`${r.ts}/${String(r.value)}`, r.value])).values()];
    expect(once).toEqual(Array.from({ length: N }, (_, i) => 100 + i / 10));
    expect(driver.health().counters?.['reconnects']).toBeGreaterThan(0);
    await driver.stop();
  });

  it('refuses bad credentials and keeps retrying without crashing', async () => {
    const m = await broker({ users: { gw: 'gw-secret' } });
    const c = collector();
    const cfg = config(`
connections: [{ id: ext, protocol: mqtt, url: "${m.url}", username: gw, password: wrong, reconnect_min: 100ms, reconnect_max: 400ms }]
devices: [{ id: wm-1, class: water_meter, connection: ext, profile: generic-json }]
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    await waitFor(() => (driver.health().counters?.['reconnects'] ?? 0) >= 2, 5_000);
    expect(driver.health().state).not.toBe('connected');
    expect(driver.health().error).toMatch(/Not authorized|Bad username or password/i);
    expect(c.logText()).not.toContain('wrong');
    await driver.stop();
  });

  it('connects over TLS with the configured CA', async () => {
    const m = await broker({ tls: true });
    const c = collector();
    const cfg = config(`
connections: [{ id: ext, protocol: mqtt, url: "${m.url}", protocol_version: 5, tls: { ca: "${m.caFile}" } }]
devices: [{ id: wm-1, class: water_meter, connection: ext, profile: generic-json }]
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    expect(driver.health()).toMatchObject({ state: 'connected' });
    const pub = await mqtt.connectAsync(m.url, { ca: await import('node:fs').then((fs) => fs.readFileSync(m.caFile as string)) });
    await pub.publishAsync('devices/wm-1/up', msg(1), { qos: 1 });
    await waitFor(() => c.readings.length === 1);
    await pub.endAsync();
    await driver.stop();
  });

  it('does not acknowledge a message the store did not commit: the broker sends it again', async () => {
    const m = await broker();
    let failing = true;
    const c = collector({ failIngest: () => failing });
    const cfg = config(`
connections: [{ id: ext, protocol: mqtt, url: "${m.url}", reconnect_min: 200ms, reconnect_max: 500ms }]
devices: [{ id: wm-1, class: water_meter, connection: ext, profile: generic-json }]
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    const pub = await mqtt.connectAsync(m.url);
    await pub.publishAsync('devices/wm-1/up', msg(7), { qos: 1 });
    await waitFor(() => (driver.health().counters?.['ingest_failures'] ?? 0) >= 1);
    expect(c.readings).toEqual([]);
    failing = false;
    await waitFor(() => c.readings.length === 1, 10_000);
    expect(c.readings[0]).toMatchObject({ device: 'wm-1', metric: 'volume_total', value: 100.7 });
    await pub.endAsync();
    await driver.stop();
  });
});
