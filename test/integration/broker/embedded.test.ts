import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { hashPassword, verifyPassword } from '../../../gateway/broker/passwords.js';
import { topicMatches } from '../../../gateway/broker/topics.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { embeddedConfig } from './helpers.js';

const log = createLogger({ level: 'silent' });

describe('passwords and topics', () => {
  it('hashes with scrypt and verifies only the right password', async () => {
    const h = hashPassword('correct horse');
    expect(h).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(await verifyPassword('correct horse', h)).toBe(true);
    expect(await verifyPassword('wrong horse', h)).toBe(false);
    expect(await verifyPassword('x', 'plain')).toBe(false);
  });

  it.each([
    ['a/+/c', 'a/b/c', true],
    ['a/#', 'a/b/c', true],
    ['a/#', 'a', true],
    ['+/b', 'a/b/c', false],
    ['#', '$SYS/x', false],
    ['application/+/device/+/event/up', 'application/7/device/0102/event/up', true],
  ])('%s matches %s: %s', (f, t, want) => expect(topicMatches(f, t)).toBe(want));
});

describe('embedded broker', () => {
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.stop();
  });

  const start = async (users: { username: string; password_hash: string; publish: string[]; subscribe: string[] }[] = []) => {
    broker = new EmbeddedBroker(embeddedConfig({ users, max_clients: 10, max_payload: '1kB' }), log);
    await broker.start();
    return broker;
  };

  it('acknowledges a QoS 1 message only after the interceptor committed it', async () => {
    const b = await start();
    const order: string[] = [];
    b.intercept(async (topic, payload) => {
      await new Promise((r) => setTimeout(r, 100));
      order.push(`committed ${topic} ${payload.toString()}`);
    });
    const c = await connectAsync(b.url, { reconnectPeriod: 0 });
    clients.push(c);
    await c.publishAsync('dev/1', 'hello', { qos: 1 });
    order.push('puback');
    expect(order).toEqual(['committed dev/1 hello', 'puback']);
  });

  it('while held, acknowledges nothing; once opened, hands every held message to the interceptor in order', async () => {
    broker = new EmbeddedBroker(embeddedConfig({ max_clients: 10, max_payload: '1kB' }), log);
    broker.hold();
    await broker.start();
    const b = broker;
    const seen: string[] = [];
    const c = await connectAsync(b.url, { reconnectPeriod: 0 });
    clients.push(c);
    let acked = 0;
    const sent = [1, 2, 3].map((i) => c.publishAsync('dev/held', String(i), { qos: 1 }).then(() => acked++));
    await new Promise((r) => setTimeout(r, 300));
    expect(acked).toBe(0);
    // The driver arrives late, as in the gateway's start: it still gets everything.
    b.intercept((_t, payload) => {
      seen.push(payload.toString());
    });
    b.open();
    await Promise.all(sent);
    expect(acked).toBe(3);
    expect(seen).toEqual(['1', '2', '3']);
  });

  it('does not acknowledge when the store failed, so the device resends', async () => {
    const b = await start();
    b.intercept(() => {
      throw new Error('disk full');
    });
    const c = await connectAsync(b.url, { reconnectPeriod: 0 });
    clients.push(c);
    const acked = await Promise.race([
      c.publishAsync('dev/1', 'x', { qos: 1 }).then(() => true, () => false),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
    ]);
    expect(acked).toBe(false);
  });

  it('requires a valid login when users are configured and enforces their ACL', async () => {
    const b = await start([{ username: 'meter', password_hash: hashPassword('s3cret-pass'), publish: ['meters/{username}/#'], subscribe: [] }]);
    await expect(connectAsync(b.url, { reconnectPeriod: 0, username: 'meter', password: 'wrong' })).rejects.toThrow(/Bad username or password|Not authorized/i);
    await expect(connectAsync(b.url, { reconnectPeriod: 0 })).rejects.toThrow();
    const seen: string[] = [];
    b.intercept((topic) => void seen.push(topic));
    const c = await connectAsync(b.url, { reconnectPeriod: 0, username: 'meter', password: 's3cret-pass', clientId: 'meter' });
    clients.push(c);
    await c.publishAsync('meters/meter/reading', '1', { qos: 1 });
    expect(seen).toEqual(['meters/meter/reading']);
    // Publishing outside the ACL closes the connection without delivering.
    await c.publishAsync('meters/other/reading', '1', { qos: 0 }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(['meters/meter/reading']);
  });

  it('refuses oversize payloads', async () => {
    const b = await start();
    const seen: number[] = [];
    b.intercept((_t, p) => void seen.push(p.length));
    const c = await connectAsync(b.url, { reconnectPeriod: 0 });
    clients.push(c);
    await c.publishAsync('dev/1', Buffer.alloc(100), { qos: 1 });
    c.publish('dev/1', Buffer.alloc(5000), { qos: 0 });
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual([100]);
  });
});
