import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createRequire } from 'node:module';
import type { IConnectPacket, IPublishPacket, Packet } from 'mqtt-packet';
import { PacketReader } from './framing.js';

/** mqtt-packet loads with the first session (a gateway without an MQTT connection never pays for it). */
let packets: typeof import('mqtt-packet') | undefined;
const mqttPacket = (): typeof import('mqtt-packet') => (packets ??= createRequire(import.meta.url)('mqtt-packet') as typeof import('mqtt-packet'));

/**
 * One connection of a subscriber session, on mqtt-packet (PUBLISH packets read by PacketReader).
 * Why not mqtt.js: mqtt.js hands incoming PUBLISH packets over one at a time and sends each
 * PUBACK before it reads the next, so "acknowledge after commit" costs a full store commit per
 * message. Here every packet of a socket read is handed over as one batch (one store
 * transaction), and the PUBACKs follow in order once the batch is committed, while the next
 * reads are already being decoded.
 * Reconnecting is the driver's job: a Session is one attempt, closed for good when it ends.
 */

export interface SessionOptions {
  url: URL;
  clientId: string;
  clean: boolean;
  keepaliveS: number;
  protocolVersion: 4 | 5;
  username?: string | undefined;
  password?: string | undefined;
  tls?: { ca?: Buffer | undefined; cert?: Buffer | undefined; key?: Buffer | undefined; rejectUnauthorized: boolean } | undefined;
  /** MQTT 5: how long the broker keeps the session (and queues for it) while we are away. */
  sessionExpiryS: number;
  filters: readonly string[];
  /** Messages waiting for their commit before the socket is paused (backpressure to the broker). */
  maxUnacked: number;
  connectTimeoutMs: number;
}

export interface SessionHandlers {
  /** Resolve once every message is committed or refused; reject to drop the connection unacknowledged. */
  messages(batch: IPublishPacket[]): Promise<void> | void;
  up(sessionPresent: boolean): void;
  /** Subscriptions the broker refused. */
  refused(filters: string[]): void;
  down(err: Error | undefined): void;
}

/**
 * The PUBACKs (QoS 1) and PUBRECs (QoS 2) of a batch, in order, as one buffer, written directly
 * rather than built one packet object at a time: 4 bytes each in MQTT 3.1.1; in MQTT 5, 6 bytes
 * with reason code 0 and no properties, the form mqtt-packet writes (the short 4-byte form is
 * also valid, MQTT 5 section 3.4.2.1, but this one every broker has already seen from us).
 */
export function acknowledgements(batch: readonly IPublishPacket[], protocolVersion: 4 | 5): Buffer | undefined {
  let n = 0;
  for (const p of batch) if (p.qos === 1 || p.qos === 2) n++;
  if (n === 0) return undefined;
  const size = protocolVersion === 5 ? 6 : 4;
  const out = Buffer.alloc(n * size);
  let o = 0;
  for (const p of batch) {
    if (p.qos !== 1 && p.qos !== 2) continue;
    const id = p.messageId as number;
    out[o] = p.qos === 1 ? 0x40 : 0x50;
    out[o + 1] = size - 2;
    out[o + 2] = id >> 8;
    out[o + 3] = id & 0xff;
    o += size; // MQTT 5: reason code and property length stay 0
  }
  return out;
}

const CONNACK_V4 = ['', 'unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad username or password', 'not authorized'];

export class SessionError extends Error {
  constructor(
    readonly code: 'MQTT_CONNECT_REFUSED' | 'MQTT_PROTOCOL' | 'MQTT_TIMEOUT' | 'MQTT_SOCKET',
    message: string,
  ) {
    super(message);
  }
}

export class Session {
  private socket: Socket | undefined;
  private readonly parser;
  private readonly reader: PacketReader;
  private pending: IPublishPacket[] = [];
  private acks: Promise<void> = Promise.resolve();
  private unacked = 0;
  private paused = false;
  private ended = false;
  private waitingPong = false;
  /** When the broker was last heard from (any bytes), on the monotonic clock. */
  private lastHeard = performance.now();
  private timers: NodeJS.Timeout[] = [];
  private readonly gen: { protocolVersion: 4 | 5 };

  constructor(
    private readonly o: SessionOptions,
    private readonly h: SessionHandlers,
  ) {
    this.gen = { protocolVersion: o.protocolVersion };
    this.parser = mqttPacket().parser(this.gen);
    this.parser.on('packet', (p: Packet) => this.onPacket(p));
    this.parser.on('error', (err: Error) => this.end(new SessionError('MQTT_PROTOCOL', `bad packet from the broker: ${err.message}`)));
    this.reader = new PacketReader(o.protocolVersion, (packet) => this.parser.parse(packet));
  }

  open(): void {
    const u = this.o.url;
    const secure = u.protocol === 'mqtts:' || u.protocol === 'ssl:' || u.protocol === 'tls:';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = Number(u.port || (secure ? 8883 : 1883));
    const t = this.o.tls;
    const socket = secure
      ? tlsConnect({ host, port, servername: /^[\d.:]+$/.test(host) ? undefined : host, ca: t?.ca, cert: t?.cert, key: t?.key, rejectUnauthorized: t?.rejectUnauthorized ?? true })
      : netConnect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on(secure ? 'secureConnect' : 'connect', () => this.send(this.connectPacket()));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.end(new SessionError('MQTT_SOCKET', err.message)));
    socket.on('close', () => this.end(undefined));
    this.timers.push(setTimeout(() => this.end(new SessionError('MQTT_TIMEOUT', `no CONNACK within ${this.o.connectTimeoutMs} ms`)), this.o.connectTimeoutMs));
  }

  private connectPacket(): IConnectPacket {
    const p: IConnectPacket = { cmd: 'connect', protocolId: 'MQTT', protocolVersion: this.o.protocolVersion, clientId: this.o.clientId, clean: this.o.clean, keepalive: this.o.keepaliveS };
    if (this.o.username !== undefined) p.username = this.o.username;
    if (this.o.password !== undefined) p.password = Buffer.from(this.o.password);
    if (this.o.protocolVersion === 5) p.properties = { sessionExpiryInterval: this.o.clean ? 0 : this.o.sessionExpiryS, receiveMaximum: 65535 };
    return p;
  }

  private send(p: Packet): void {
    if (!this.ended) this.socket?.write(mqttPacket().generate(p, this.gen));
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    this.lastHeard = performance.now();
    try {
      this.reader.read(chunk, this.pending);
    } catch (err) {
      return this.end(new SessionError('MQTT_PROTOCOL', `bad packet from the broker: ${(err as Error).message}`));
    }
    if (this.pending.length === 0 || this.ended) return;
    const batch = this.pending;
    this.pending = [];
    this.unacked += batch.length;
    if (this.unacked >= this.o.maxUnacked && !this.paused) {
      this.paused = true;
      this.socket?.pause();
    }
    // Decoding starts now; acknowledgements go out strictly in arrival order, after the commit.
    const work = Promise.resolve().then(() => this.h.messages(batch));
    this.acks = this.acks.then(async () => {
      try {
        await work;
      } catch (err) {
        this.end(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      const acks = acknowledgements(batch, this.o.protocolVersion);
      if (acks && !this.ended) this.socket?.write(acks);
      this.unacked -= batch.length;
      if (this.paused && this.unacked < this.o.maxUnacked / 2) {
        this.paused = false;
        this.socket?.resume();
      }
    });
  }

  private onPacket(p: Packet): void {
    switch (p.cmd) {
      case 'connack': {
        const code = this.o.protocolVersion === 5 ? (p.reasonCode ?? 0) : (p.returnCode ?? 0);
        if (code !== 0) {
          const why = this.o.protocolVersion === 5 ? `reason code ${code}` : (CONNACK_V4[code] ?? `return code ${code}`);
          return this.end(new SessionError('MQTT_CONNECT_REFUSED', `connection refused: ${why}`));
        }
        this.clearTimers();
        this.startKeepalive();
        this.sessionPresent = p.sessionPresent;
        // A connection only a northbound sink uses has nothing to subscribe to, and an empty
        // SUBSCRIBE is a protocol error (mqtt-packet throws: it killed the gateway).
        if (this.o.filters.length === 0) return this.h.up(this.sessionPresent);
        this.send({ cmd: 'subscribe', messageId: 1, subscriptions: this.o.filters.map((topic) => ({ topic, qos: 1 })) });
        return;
      }
      case 'suback': {
        const refused = p.granted.flatMap((g, i) => ((typeof g === 'number' ? g : (g as { qos: number }).qos) >= 0x80 ? [this.o.filters[i] as string] : []));
        if (refused.length) this.h.refused(refused);
        this.h.up(this.sessionPresent);
        return;
      }
      case 'publish':
        this.pending.push(p);
        return;
      case 'pubrel':
        this.send({ cmd: 'pubcomp', messageId: p.messageId as number });
        return;
      case 'pingresp':
        this.waitingPong = false;
        return;
      case 'disconnect':
        return this.end(new SessionError('MQTT_SOCKET', `the broker disconnected us${p.reasonCode ? ` (reason ${p.reasonCode})` : ''}`));
      default:
        return;
    }
  }

  private sessionPresent = false;

  private startKeepalive(): void {
    if (this.o.keepaliveS <= 0) return;
    this.timers.push(setInterval(() => this.keepalive(false), this.o.keepaliveS * 1000));
  }

  /**
   * A PINGREQ each keepalive; the broker is gone when nothing at all (PINGRESP or any other
   * packet) came for a whole keepalive after one. A timer that fires late (the event loop held by
   * a long commit, the process stopped, a laptop asleep) runs before the socket's waiting input is
   * read, so the verdict waits one turn of the loop: a broker that did answer is not dropped.
   */
  private keepalive(looked: boolean): void {
    if (this.ended) return;
    if (this.waitingPong && performance.now() - this.lastHeard >= this.o.keepaliveS * 1000) {
      if (!looked) return void setImmediate(() => this.keepalive(true));
      return this.end(new SessionError('MQTT_TIMEOUT', 'nothing from the broker within the keepalive after a PINGREQ'));
    }
    this.waitingPong = true;
    this.send({ cmd: 'pingreq' });
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }

  private end(err: Error | undefined): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimers();
    this.socket?.destroy();
    this.h.down(err);
  }

  /** Publish a message (a command to a device); QoS 0 or 1, the packet id from the top of the range. */
  publish(topic: string, payload: string, qos: 0 | 1): boolean {
    if (this.ended || !this.socket) return false;
    const messageId = qos === 1 ? (this.nextId = this.nextId >= 65535 ? 32768 : this.nextId + 1) : undefined;
    this.send({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false, ...(messageId !== undefined ? { messageId } : {}) });
    return true;
  }

  /** Ids of our own QoS 1 publishes (the broker's PUBACK for them needs no handling). */
  private nextId = 32768;

  /** Let pending commits finish and their acknowledgements go out, then DISCONNECT. */
  async close(waitMs: number): Promise<void> {
    if (this.ended) return;
    await Promise.race([this.acks, new Promise((r) => setTimeout(r, waitMs).unref())]);
    if (this.ended) return;
    const socket = this.socket;
    this.send({ cmd: 'disconnect' });
    this.ended = true;
    this.clearTimers();
    await new Promise<void>((r) => {
      if (!socket || socket.destroyed) return r();
      socket.once('close', () => r());
      socket.end();
      setTimeout(() => {
        socket.destroy();
        r();
      }, 1000).unref();
    });
  }
}
