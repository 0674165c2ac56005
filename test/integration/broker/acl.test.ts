import { connectAsync, type MqttClient, type Packet } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { hashPassword } from '../../../gateway/broker/passwords.js';
import { counter, sleep, startBroker } from './helpers.js';

const pw = hashPassword('pass-1234');
/** A user; one with no filters at all is a config problem, so by default it may publish to its own data/{username}/#. */
const user = (username: string, extra: Record<string, unknown> = {}) => ({ username, password_hash: pw, publish: ['data/{username}/#'], ...extra });

describe('embedded broker: what a user may do', () => {
  let broker: EmbeddedBroker | undefined;
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.stop();
    broker = undefined;
  });

  const connect = async (username: string, clientId: string, extra: Record<string, unknown> = {}) => {
    const c = await connectAsync((broker as EmbeddedBroker).url, { reconnectPeriod: 0, username, password: 'pass-1234', clientId, ...extra });
    clients.push(c);
    return c;
  };
  /** The SUBACK's granted codes, in order (mqtt.js rejects a refused subscription without them). */
  const subscribe = (c: MqttClient, topics: string[]) =>
    new Promise<number[]>((resolve) => {
      const onPacket = (p: Packet) => {
        if (p.cmd !== 'suback') return;
        c.off('packetreceive', onPacket);
        resolve(p.granted as number[]);
      };
      c.on('packetreceive', onPacket);
      c.subscribe(Object.fromEntries(topics.map((t) => [t, { qos: 0 as const }])), () => undefined);
    });
  const closed = (c: MqttClient, ms = 1000) =>
    new Promise<boolean>((resolve) => {
      if (!c.connected) return resolve(true);
      const t = setTimeout(() => resolve(false), ms);
      c.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });

  it('a user gets nothing it does not list: publish and subscribe default to no filters', async () => {
    const started = await startBroker({ users: [{ username: 'bare', password_hash: pw, subscribe: ['bare/inbox'] }, user('gate', { publish: ['parking/#'] })] });
    broker = started.broker;
    const seen: string[] = [];
    broker.intercept((t) => void seen.push(t));
    const bare = await connect('bare', 'bare');
    expect(await subscribe(bare, ['parking/gate/north/event'])).toEqual([128]);
    expect(bare.connected).toBe(true);
    const gate = await connect('gate', 'gate');
    await gate.publishAsync('parking/gate/north/event', '{"plate":"浙A12345"}', { qos: 1 });
    bare.publish('door/1/event', '{"open":true}', { qos: 1 });
    expect(await closed(bare)).toBe(true);
    expect(seen).toEqual(['parking/gate/north/event']);
    expect(await counter(started.metrics, 'fcgw_broker_subscribe_refused_total', { user: 'bare' })).toBe(1);
  });

  it('never lets # or + reach $SYS: neither a subscription to $SYS/# nor delivery to a # subscriber', async () => {
    const started = await startBroker({ users: [user('ops', { subscribe: ['#'] }), user('dev', { publish: ['#'] })] });
    broker = started.broker;
    const ops = await connect('ops', 'ops');
    const got: string[] = [];
    ops.on('message', (t) => got.push(t));
    expect(await subscribe(ops, ['$SYS/#', '$SYS/fcgw/new/clients', '+/fcgw/#', '#'])).toEqual([128, 128, 0, 0]);
    // Another client connecting makes aedes publish $SYS/fcgw/new/clients (it carries client ids).
    const dev = await connect('dev', 'dev');
    await dev.publishAsync('meters/1', '1', { qos: 1 });
    await sleep(200);
    expect(got).toEqual(['meters/1']);
    // And publishing to $ topics is refused even under #.
    dev.publish('$SYS/fcgw/new/clients', 'fake', { qos: 1 });
    expect(await closed(dev)).toBe(true);
  });

  it('covers a subscription only when the allowed filter covers every topic it can match', async () => {
    const started = await startBroker({ users: [user('app', { subscribe: ['fc/+/meter/#', 'alerts/{username}'] })] });
    broker = started.broker;
    const c = await connect('app', 'app');
    const topics = ['fc/lianhua/meter/m1/energy', 'fc/+/meter/#', 'fc/#', '#', 'fc/+/+/#', 'alerts/app', 'alerts/+', 'alerts/other'];
    expect(await subscribe(c, topics)).toEqual([0, 0, 128, 128, 128, 0, 128, 128]);
  });

  it('binds client ids to users: {username} and {username}-* by default, nobody else’s', async () => {
    const started = await startBroker({ users: [user('meter'), user('meter-2'), user('gate')] });
    broker = started.broker;
    expect((await connect('meter', 'meter')).connected).toBe(true);
    expect((await connect('meter', 'meter-a')).connected).toBe(true);
    expect((await connect('meter-2', 'meter-2-x')).connected).toBe(true);
    await expect(connect('gate', 'meter')).rejects.toThrow(/Identifier rejected/i);
    await expect(connect('meter', 'meter-2')).rejects.toThrow(/Identifier rejected/i);
    await expect(connect('meter', 'meter-2-y')).rejects.toThrow(/Identifier rejected/i);
    await expect(connect('gate', 'ESP_1A2B3C')).rejects.toThrow(/Identifier rejected/i);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'client_id' })).toBe(4);
    // A device that sent no id gets a fresh one from the broker: no one else's session.
    expect((await connect('gate', '')).connected).toBe(true);
  });

  it('a configured pattern per user admits a device with a fixed firmware id', async () => {
    const started = await startBroker({ users: [user('esp', { client_ids: ['ESP_*'] })] });
    broker = started.broker;
    expect((await connect('esp', 'ESP_1A2B3C')).connected).toBe(true);
    await expect(connect('esp', 'esp')).rejects.toThrow(/Identifier rejected/i);
  });

  it("refuses a takeover of another user's live client id and of its persistent session", async () => {
    const started = await startBroker({
      users: [user('sensor', { publish: ['s/#'] }), user('reader', { subscribe: ['s/#'], client_ids: ['{username}', 'shared-*'] }), user('intruder', { client_ids: ['shared-*'] })],
    });
    broker = started.broker;
    const reader = await connect('reader', 'shared-1', { clean: false });
    await reader.subscribeAsync('s/#', { qos: 1 });
    expect(reader.connected).toBe(true);
    // Someone else with an id pattern that also matches cannot kick it...
    await expect(connect('intruder', 'shared-1')).rejects.toThrow(/Identifier rejected/i);
    expect(reader.connected).toBe(true);
    // ...nor resume its session once it is offline and collect its queued messages.
    await reader.endAsync();
    const sensor = await connect('sensor', 'sensor');
    await sensor.publishAsync('s/1', 'queued', { qos: 1 });
    await expect(connect('intruder', 'shared-1', { clean: false })).rejects.toThrow(/Identifier rejected/i);
    const back = await connect('reader', 'shared-1', { clean: false });
    const msg = await new Promise<string>((resolve) => back.once('message', (_t, p) => resolve(p.toString())));
    expect(msg).toBe('queued');
  });

  it('a refused publish from an MQTT 3.1.1 client closes it; counted per user and topic; one log line per user and topic', async () => {
    const started = await startBroker({ users: [user('meter', { publish: ['meters/{username}/#'] })] });
    broker = started.broker;
    const seen: string[] = [];
    broker.intercept((t) => void seen.push(t));
    for (let i = 0; i < 3; i++) {
      const c = await connect('meter', 'meter');
      c.publish('door/1/event', '{"open":true}', { qos: 1 });
      expect(await closed(c)).toBe(true);
    }
    expect(seen).toEqual([]);
    expect(await counter(started.metrics, 'fcgw_broker_publish_refused_total', { user: 'meter', topic: 'door/1/event', reason: 'not_authorised' })).toBe(3);
    const lines = started.lines.filter((l) => l['msg'] === 'MQTT publish refused');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ user: 'meter', topic: 'door/1/event', reason: 'not_authorised', level: 40 });
    const metrics = await started.metrics.registry.metrics();
    expect(metrics).toContain('fcgw_broker_publish_refused_total{user="meter",topic="door/1/event",reason="not_authorised"} 3');
  });

  it("anonymous (no users): $SYS stays closed, and nobody takes the id of the gateway's own client", async () => {
    const started = await startBroker({});
    broker = started.broker;
    const own = broker.internalUser;
    const sink = await connectAsync(broker.url, { reconnectPeriod: 0, username: own.username, password: own.password, clientId: 'fcgw-sink-north' });
    clients.push(sink);
    await expect(connectAsync(broker.url, { reconnectPeriod: 0, clientId: 'fcgw-sink-north' })).rejects.toThrow(/Identifier rejected/i);
    expect(sink.connected).toBe(true);
    const anon = await connectAsync(broker.url, { reconnectPeriod: 0, clientId: 'tool' });
    clients.push(anon);
    expect(await subscribe(anon, ['$SYS/#', '#'])).toEqual([128, 0]);
  });

  it("the gateway's own client takes its id back from a device user whose pattern matches it", async () => {
    const started = await startBroker({ users: [user('fcgw')] });
    broker = started.broker;
    const squatter = await connect('fcgw', 'fcgw-sink-north');
    const own = broker.internalUser;
    const sink = await connectAsync(broker.url, { reconnectPeriod: 0, username: own.username, password: own.password, clientId: 'fcgw-sink-north' });
    clients.push(sink);
    expect(await closed(squatter)).toBe(true);
    await expect(connect('fcgw', 'fcgw-sink-north')).rejects.toThrow(/Identifier rejected/i);
    expect(sink.connected).toBe(true);
  });

  it('MQTT 5 clients are refused at CONNECT by aedes 1.2 (no v5 PUBACK reason codes on the embedded broker)', async () => {
    const started = await startBroker({ users: [user('meter', { publish: ['meters/#'] })] });
    broker = started.broker;
    await expect(connect('meter', 'meter', { protocolVersion: 5 })).rejects.toThrow(/Unacceptable protocol version/i);
  });
});
