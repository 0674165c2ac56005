import { connectAsync, type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { EmbeddedBroker } from '../../../gateway/broker/embedded.js';
import { closedWithin, counter, rawSocket, sleep, startBroker, varint } from './helpers.js';

/**
 * Issue 14: aedes reads an MQTT packet whole before CONNECT is checked and before max_payload
 * applies; max_clients counted only logged-in clients. These talk raw TCP to the real broker.
 */
describe('embedded broker: limits on the socket', () => {
  let broker: EmbeddedBroker | undefined;
  const sockets: Socket[] = [];
  const clients: MqttClient[] = [];
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    for (const c of clients.splice(0)) await c.endAsync(true);
    await broker?.stop();
    broker = undefined;
  });

  /** Streams `total` bytes after `head` until the peer closes; resolves with what was written. */
  const stream = (s: Socket, head: Buffer, total: number): Promise<number> =>
    new Promise((resolve) => {
      let sent = 0;
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      const pump = () => {
        while (sent < total && !s.destroyed) {
          sent += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      s.on('error', () => undefined);
      s.once('close', () => resolve(sent));
      s.write(head);
      pump();
    });

  it('closes a socket whose first packet declares a 250 MB CONNECT after reading a few kB', async () => {
    const started = await startBroker({ max_connect_packet: '8kB' });
    broker = started.broker;
    const s = await rawSocket(broker.port);
    sockets.push(s);
    const head = Buffer.concat([Buffer.from([0x10]), varint(250 * 1024 * 1024)]);
    const sending = stream(s, head, 8 * 1024 * 1024);
    expect(await closedWithin(s, 3000)).toBe(true);
    await sending;
    const line = started.lines.find((l) => l['msg'] === 'MQTT connection closed' && l['reason'] === 'connect_too_large');
    expect(line?.['declared']).toBe(250 * 1024 * 1024);
    // One socket read at most (64 kB), never the packet: the header was enough to refuse it.
    expect(line?.['bytesRead']).toBeLessThanOrEqual(64 * 1024);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'connect_too_large' })).toBe(1);
  });

  it('closes a socket that sends anything but CONNECT first', async () => {
    const started = await startBroker({});
    broker = started.broker;
    const s = await rawSocket(broker.port);
    sockets.push(s);
    s.write(Buffer.concat([Buffer.from([0x30]), varint(10), Buffer.alloc(10)]));
    expect(await closedWithin(s, 2000)).toBe(true);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'not_connect' })).toBe(1);
  });

  it('refuses a 50 MB PUBLISH against max_payload 4kB from its header, not after reading it', async () => {
    const started = await startBroker({ max_payload: '4kB' });
    broker = started.broker;
    const seen: number[] = [];
    broker.intercept((_t, p) => void seen.push(p.length));
    const s = await rawSocket(broker.port);
    sockets.push(s);
    const connack = new Promise<void>((resolve) => s.once('data', () => resolve()));
    s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'big', clean: true, keepalive: 30 }));
    await connack;
    const topic = Buffer.from('dev/big');
    const len = 2 + topic.length + 50 * 1024 * 1024;
    const head = Buffer.concat([Buffer.from([0x30]), varint(len), Buffer.from([0, topic.length]), topic]);
    const sending = stream(s, head, 50 * 1024 * 1024);
    expect(await closedWithin(s, 3000)).toBe(true);
    await sending;
    const line = started.lines.find((l) => l['reason'] === 'packet_too_large');
    expect(line?.['declared']).toBe(len);
    expect(line?.['bytesRead']).toBeLessThanOrEqual(128 * 1024);
    expect(seen).toEqual([]);
  });

  it('lets a PUBLISH of max_payload through', async () => {
    const started = await startBroker({ max_payload: '4kB' });
    broker = started.broker;
    const seen: number[] = [];
    broker.intercept((_t, p) => void seen.push(p.length));
    const c = await connectAsync(broker.url, { reconnectPeriod: 0 });
    clients.push(c);
    await c.publishAsync('dev/ok', Buffer.alloc(4000), { qos: 1 });
    expect(seen).toEqual([4000]);
  });

  it('holds what a client sends after its CONNECT until the CONNECT is accepted', async () => {
    const started = await startBroker({});
    broker = started.broker;
    const seen: string[] = [];
    broker.intercept((t) => void seen.push(t));
    const s = await rawSocket(broker.port);
    sockets.push(s);
    // CONNECT and a PUBLISH in one write: the PUBLISH is processed after CONNACK, as usual.
    s.write(
      Buffer.concat([
        mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'pipe', clean: true, keepalive: 30 }),
        mqttPacket.generate({ cmd: 'publish', topic: 'dev/pipelined', payload: Buffer.from('1'), qos: 1, messageId: 7, retain: false, dup: false }),
      ]),
    );
    for (let i = 0; i < 40 && seen.length === 0; i++) await sleep(25);
    expect(seen).toEqual(['dev/pipelined']);
  });

  it('a client that sends CONNECT, PUBLISH and its FIN at once still gets its message through', async () => {
    const started = await startBroker({});
    broker = started.broker;
    const seen: string[] = [];
    broker.intercept((t) => void seen.push(t));
    const s = await rawSocket(broker.port);
    sockets.push(s);
    s.end(
      Buffer.concat([
        mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'oneshot', clean: true, keepalive: 30 }),
        mqttPacket.generate({ cmd: 'publish', topic: 'dev/oneshot', payload: Buffer.from('1'), qos: 0, retain: false, dup: false }),
      ]),
    );
    for (let i = 0; i < 40 && seen.length === 0; i++) await sleep(25);
    expect(seen).toEqual(['dev/oneshot']);
  });

  it('counts sockets toward max_clients from accept: 80 raw connects against 50 leave 50 open', async () => {
    const started = await startBroker({ max_clients: 50, connect_timeout: '30s' });
    broker = started.broker;
    const opened = await Promise.all(Array.from({ length: 80 }, () => rawSocket((broker as EmbeddedBroker).port)));
    sockets.push(...opened);
    const closed = await Promise.all(opened.map((s) => closedWithin(s, 1000)));
    expect(closed.filter((c) => c).length).toBe(30);
    expect(broker.openSockets()).toBe(50);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'max_clients' })).toBe(30);
    // A device still gets in once the idle sockets are gone.
    for (const s of opened) s.destroy();
    for (let i = 0; i < 40 && broker.openSockets() > 0; i++) await sleep(25);
    const c = await connectAsync(broker.url, { reconnectPeriod: 0 });
    clients.push(c);
    expect(c.connected).toBe(true);
  });

  it('closes a socket that sends no CONNECT within connect_timeout, and one whose CONNECT never ends', async () => {
    const started = await startBroker({ connect_timeout: '300ms' });
    broker = started.broker;
    const idle = await rawSocket(broker.port);
    const partial = await rawSocket(broker.port);
    sockets.push(idle, partial);
    partial.write(Buffer.concat([Buffer.from([0x10]), varint(200), Buffer.alloc(20)]));
    const t0 = performance.now();
    expect(await closedWithin(idle, 2000)).toBe(true);
    expect(await closedWithin(partial, 2000)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(await counter(started.metrics, 'fcgw_broker_connections_refused_total', { reason: 'connect_timeout' })).toBe(2);
  });
});
