import mqtt from 'mqtt';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';

/**
 * The MQTT driver inside the real gateway, through the embedded broker (the driver hooks the
 * broker, so a PUBACK means committed): personal data never reaches the store, the log, the API
 * or a sink (the MQTT northbound sink, read by a subscriber).
 */
const RAW = { plate: '浙A88888', card: '04DEADBEEF', face: 'F777777', parcel: 'SF9876543210123', waybill: 'YT5550001112' };

describe('MQTT in the gateway (embedded broker): privacy', () => {
  it('stores, logs and serves only pseudonyms of plates, cards, faces and tracking numbers', async () => {
    const t = tempDir('fcgw-mqtt-gw-');
    const port = await freePort();
    // The demo's discover rules as written (durations as strings), not as parsed.
    const rules = (parseYaml(readFileSync('config/demo.yaml', 'utf8')) as { discover: { connection: string }[] }).discover.filter((r) => r.connection === 'community-mqtt');
    const config = parseConfig(
      `version: 1
site: { id: privacy }
store: { path: ${join(t.dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${port} } }
api: { host: 127.0.0.1, port: 0 }
logging: { level: debug }
connections: [{ id: community-mqtt, protocol: mqtt, url: embedded }]
discover: ${JSON.stringify(rules)}
sinks: [{ id: north, type: mqtt, connection: community-mqtt, topic_prefix: "fc/{site}", flush_interval: 100ms, start_from: earliest }]
`,
      'test.yaml',
      {},
    );
    let log = '';
    let apiText = '';
    let sinkText = '';
    const destination = new Writable({
      write(chunk: Buffer, _e, cb) {
        log += chunk.toString();
        cb();
      },
    });
    const gw = Gateway.create({ config, log: createLogger({ level: 'debug', destination }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
    await gw.start();
    try {
      // A northbound consumer of the MQTT sink, on the same broker.
      const north = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      let northEvents = 0;
      north.on('message', (topic, payload) => {
        sinkText += `${topic} ${payload.toString()}\n`;
        if (topic.startsWith('fc/privacy/events/')) northEvents++;
      });
      await north.subscribeAsync('fc/#', { qos: 1 });
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`);
      const now = Date.now();
      const send = (topic: string, body: unknown) => pub.publishAsync(topic, JSON.stringify(body), { qos: 1 });
      await send('parking/gate/north/event', { type: 'vehicle_pass', direction: 'in', plate_no: RAW.plate, gate_id: 'north', is_resident: true, pass_time: new Date(now).toISOString() });
      await send('access/ctl-1/door/d01/event', { type: 'access', time: Math.floor(now / 1000), access: 'Always', uid: RAW.card, door: 'd01', method: 'card' });
      await send('access/ctl-1/door/d02/event', { type: 'access', time: Math.floor(now / 1000), access: 'Denied', uid: RAW.face, door: 'd02', method: 'face' });
      await send('logistics/locker/1/event', { event: 'deposit', tracking_no: RAW.parcel, compartment: 'A-01', occupied: 1, total: 60, ts: now });
      await send('logistics/platform/hub/event', { event: 'arrived', waybill: RAW.waybill, ts: new Date(now).toISOString() });
      // Refused input that carries a plate: the log gets the topic and the reason, not the plate.
      await send('parking/gate/north/event', { type: 'vehicle_pass', direction: 'in', plate_no: RAW.plate, gate_id: 'north', is_resident: 'maybe', pass_time: new Date(now + 1000).toISOString() });
      await pub.endAsync();
      // QoS 1 through the embedded broker: acknowledged means committed, so the rows are there now.
      expect(gw.store.counts().events).toBe(5);

      const res = await (gw.api as NonNullable<Gateway['api']>).inject({ method: 'GET', url: '/api/events' });
      apiText = res.body;
      const latest = await (gw.api as NonNullable<Gateway['api']>).inject({ method: 'GET', url: '/api/latest' });
      apiText += latest.body;
      const events = res.json() as { device: string; type: string; attributes: Record<string, unknown> }[];
      expect(events.map((e) => `${e.device}:${e.type}`).sort()).toEqual(['door-d01:access_granted', 'door-d02:access_denied', 'gate-north:vehicle_entry', 'locker-1:parcel_deposited', 'logistics-hub:parcel_arrived']);
      const entry = events.find((e) => e.type === 'vehicle_entry');
      expect(entry?.attributes).toMatchObject({ gate: 'north', resident: true });
      expect(entry?.attributes['vehicle']).toMatch(/^[A-Za-z0-9_-]{8,}$/);
      expect(log).toContain('wrong_type');
      await waitFor(() => northEvents >= 5, 10_000);
      expect(sinkText).toContain('fc/privacy/events/vehicle_entry');
      // The sink forwards the attributes: the pseudonym, not the plate.
      expect(sinkText).toContain(String(entry?.attributes['vehicle']));
      await north.endAsync();
    } finally {
      await gw.stop();
    }
    const files = readdirSync(t.dir).filter((f) => f.startsWith('gw.db'));
    const stored = Buffer.concat(files.map((f) => readFileSync(join(t.dir, f))));
    for (const raw of Object.values(RAW)) {
      expect(stored.includes(Buffer.from(raw)), `${raw} in the database`).toBe(false);
      expect(log.includes(raw), `${raw} in the log`).toBe(false);
      expect(apiText.includes(raw), `${raw} in the API`).toBe(false);
      expect(sinkText.includes(raw), `${raw} in the MQTT sink`).toBe(false);
    }
    t.cleanup();
  }, 20_000);
});
