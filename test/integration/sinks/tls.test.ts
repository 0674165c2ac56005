import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SinkConfig } from '../../../gateway/config/schema.js';
import { systemClock } from '../../../gateway/model/clock.js';
import { influxdb1Writer } from '../../../gateway/sinks/influxdb1.js';
import { influxdb2Writer } from '../../../gateway/sinks/influxdb2.js';
import { connectMqtt } from '../../../gateway/sinks/mqtt.js';
import { warnIfUnverified } from '../../../gateway/sinks/tls.js';
import type { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { hashPassword } from '../../../gateway/broker/passwords.js';
import { capturedLog, startBroker } from '../broker/helpers.js';
import { makePki, type Pki } from '../broker/pki.js';

/** Outbound TLS: https:// InfluxDB sinks and mqtts:// connections verify the peer unless told not to. */
describe('sinks over TLS', () => {
  let pki: Pki;
  let server: Server;
  let url: string;
  const bodies: string[] = [];

  beforeAll(async () => {
    pki = makePki();
    server = createServer({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        bodies.push(`${req.url} ${body}`);
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(pki.dir, { recursive: true, force: true });
  });

  const sink = (s: Record<string, unknown>): SinkConfig =>
    configSchema.parse({ version: 1, site: { id: 'tls' }, sinks: [s] }).sinks[0] as SinkConfig;
  const deps = { deviceTags: () => ({}), clock: systemClock };
  const send = (w: { send(b: string[], s: AbortSignal): Promise<unknown> }) => w.send(['m,site=tls v=1 1700000000000'], new AbortController().signal);

  const kinds = [
    ['influxdb2', (tls?: Record<string, unknown>) => influxdb2Writer(sink({ type: 'influxdb2', url, token: 't', org: 'o', bucket: 'b', ...(tls ? { tls } : {}) }) as never, deps)],
    ['influxdb1', (tls?: Record<string, unknown>) => influxdb1Writer(sink({ type: 'influxdb1', url, database: 'db', ...(tls ? { tls } : {}) }) as never, deps)],
  ] as const;

  it.each(kinds)('%s: refuses a server whose certificate it cannot verify, by default', async (_kind, make) => {
    const before = bodies.length;
    await expect(send(make())).rejects.toMatchObject({ code: 'SINK_NETWORK', message: expect.stringMatching(/certificate|self.signed|verify/i) });
    expect(bodies.length).toBe(before);
  });

  it.each(kinds)('%s: writes to it with tls.ca naming its CA', async (_kind, make) => {
    const before = bodies.length;
    await send(make({ ca: pki.ca }));
    expect(bodies.length).toBe(before + 1);
    expect(bodies.at(-1)).toContain('m,site=tls v=1 1700000000000');
  });

  it.each(kinds)('%s: still refuses with the wrong CA', async (_kind, make) => {
    await expect(send(make({ ca: pki.otherCa }))).rejects.toMatchObject({ code: 'SINK_NETWORK' });
  });

  it.each(kinds)('%s: writes without verification only with reject_unauthorized: false, which is logged loudly', async (_kind, make) => {
    const before = bodies.length;
    await send(make({ reject_unauthorized: false }));
    expect(bodies.length).toBe(before + 1);
    const { log, lines } = capturedLog();
    warnIfUnverified(log, 'ix', url, { reject_unauthorized: false });
    warnIfUnverified(log, 'ix', url, { reject_unauthorized: true });
    warnIfUnverified(log, 'ix', 'http://127.0.0.1:8086', { reject_unauthorized: false });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, sink: 'ix', msg: expect.stringContaining('verification is OFF') });
  });

  it('a missing CA file is a config error naming the file', () => {
    expect(() => kinds[0][1]({ ca: '/nonexistent/ca.pem' })).toThrow(/tls\.ca \/nonexistent\/ca\.pem/);
  });

  describe('mqtts:// northbound', () => {
    let broker: EmbeddedBroker;
    beforeAll(async () => {
      ({ broker } = await startBroker({
        users: [{ username: 'north', password_hash: hashPassword('north-pass-1'), publish: ['fc/#'], client_ids: ['fcgw-sink-*'] }],
        tls: { port: 0, cert: pki.serverCert, key: pki.serverKey },
      }));
    });
    afterAll(() => broker.stop());

    const conn = (tls?: Record<string, unknown>) => {
      const cfg = configSchema.parse({
        version: 1,
        site: { id: 'tls' },
        connections: [{ id: 'north', protocol: 'mqtt', url: `mqtts://127.0.0.1:${broker.tlsPort}`, username: 'north', password: 'north-pass-1', reconnect_min: '10s', ...(tls ? { tls } : {}) }],
      });
      return cfg.connections[0] as Extract<(typeof cfg.connections)[number], { protocol: 'mqtt' }>;
    };
    const outcome = (c: ReturnType<typeof connectMqtt>) =>
      new Promise<string>((resolve) => {
        c.once('connect', () => resolve('connected'));
        c.once('error', (err) => resolve(err.message));
      }).finally(() => c.end(true));

    it('verifies the broker by default and connects with tls.ca', async () => {
      expect(await outcome(connectMqtt(conn(), 'n1'))).toMatch(/certificate|self.signed|verify/i);
      expect(await outcome(connectMqtt(conn({ ca: pki.ca }), 'n1'))).toBe('connected');
      expect(await outcome(connectMqtt(conn({ ca: pki.otherCa }), 'n1'))).toMatch(/certificate|self.signed|verify/i);
    });
  });
});
