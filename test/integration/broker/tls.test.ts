import { readFileSync } from 'node:fs';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import type { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { hashPassword } from '../../../gateway/broker/passwords.js';
import { makePki, type Pki } from './pki.js';
import { counter, startBroker } from './helpers.js';

const users = [
  { username: 'meter', password_hash: hashPassword('meter-pass-1'), publish: ['meters/{username}/#'] },
  { username: 'gate', password_hash: hashPassword('gate-pass-1'), publish: ['parking/#'] },
];

describe('embedded broker: mqtts listener', () => {
  let pki: Pki;
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  beforeAll(() => {
    pki = makePki();
  });
  afterAll(() => rmSync(pki.dir, { recursive: true, force: true }));
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.stop();
    broker = undefined;
  });

  const tlsBroker = async (client_certificates: 'none' | 'optional' | 'require') => {
    const started = await startBroker({ users, tls: { port: 0, cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, client_certificates } });
    broker = started.broker;
    return started;
  };
  /** Connected client, or the error; a TLS 1.3 peer that refuses a client certificate just closes. */
  const connect = (opts: IClientOptions) =>
    new Promise<MqttClient>((resolve, reject) => {
      const c = mqttConnect(`mqtts://127.0.0.1:${(broker as EmbeddedBroker).tlsPort}`, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
      clients.push(c);
      c.once('connect', () => resolve(c));
      c.once('error', reject);
      c.once('close', () => reject(new Error('closed before CONNACK')));
    });
  const withCert = (cn: string, other = false) => {
    const f = other ? pki.otherClient(cn) : pki.client(cn);
    return { cert: readFileSync(f.cert), key: readFileSync(f.key) };
  };

  it('serves MQTT over TLS with its certificate; a client that does not trust it refuses it', async () => {
    await tlsBroker('none');
    const seen: string[] = [];
    (broker as EmbeddedBroker).intercept((t) => void seen.push(t));
    const c = await connect({ ca: readFileSync(pki.ca), username: 'meter', password: 'meter-pass-1', clientId: 'meter' });
    await c.publishAsync('meters/meter/energy', '1', { qos: 1 });
    expect(seen).toEqual(['meters/meter/energy']);
    await expect(connect({ username: 'meter', password: 'meter-pass-1', clientId: 'meter-2' })).rejects.toThrow(/self.signed|unable to verify|certificate/i);
  });

  it('optional client certificates: a certificate signed by the CA logs in as its CN, with that user’s rights', async () => {
    const started = await tlsBroker('optional');
    const seen: string[] = [];
    (broker as EmbeddedBroker).intercept((t) => void seen.push(t));
    const c = await connect({ ca: readFileSync(pki.ca), ...withCert('meter'), clientId: 'meter' });
    await c.publishAsync('meters/meter/energy', '1', { qos: 1 });
    expect(seen).toEqual(['meters/meter/energy']);
    // A username other than the certificate's is refused; so is a CN that is no user.
    await expect(connect({ ca: readFileSync(pki.ca), ...withCert('meter'), username: 'gate', password: 'gate-pass-1', clientId: 'gate' })).rejects.toThrow(/Bad username or password/i);
    await expect(connect({ ca: readFileSync(pki.ca), ...withCert('stranger'), clientId: 'stranger' })).rejects.toThrow(/Bad username or password/i);
    // A certificate from another CA proves nothing: without a password it is refused; with one it is a password login.
    await expect(connect({ ca: readFileSync(pki.ca), ...withCert('meter', true), clientId: 'meter-x' })).rejects.toThrow(/Bad username or password/i);
    const g = await connect({ ca: readFileSync(pki.ca), ...withCert('meter', true), username: 'gate', password: 'gate-pass-1', clientId: 'gate' });
    expect(g.connected).toBe(true);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'bad_login' })).toBe(3);
  });

  it('unreadable TLS files fail the start with a coded error naming the file', async () => {
    await expect(startBroker({ users, tls: { port: 0, cert: '/nonexistent/broker.crt', key: pki.serverKey } })).rejects.toMatchObject({
      code: 'BROKER_TLS_FILES',
      message: expect.stringContaining('/nonexistent/broker.crt'),
    });
  });

  it('required client certificates: the handshake fails without one', async () => {
    await tlsBroker('require');
    await expect(connect({ ca: readFileSync(pki.ca), username: 'meter', password: 'meter-pass-1', clientId: 'meter' })).rejects.toThrow();
    await expect(connect({ ca: readFileSync(pki.ca), ...withCert('meter', true), clientId: 'meter' })).rejects.toThrow();
    const c = await connect({ ca: readFileSync(pki.ca), ...withCert('gate'), clientId: 'gate' });
    expect(c.connected).toBe(true);
  });
});
