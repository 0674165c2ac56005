import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient, type Packet } from 'mqtt';
import type { ConnectionConfig, DiscoverConfig, GatewayConfig } from '../../gateway/config/schema.js';
import type { BoundDevice, Driver, DriverContext, DriverHealth, IngestBatch, LinkState } from '../core/driver.js';
import type { Profile } from '../profiles/schema.js';
import { explainDevice } from './explain.js';
import { decodeInput, prepare } from './message.js';
import { Router } from './router.js';
import { forget, refusal, remember, type DeviceRuntime } from './runtime.js';

export type MqttConnection = Extract<ConnectionConfig, { protocol: 'mqtt' }>;

export class MqttDriverError extends Error {
  constructor(
    readonly code: 'MQTT_CONFIG_INVALID',
    message: string,
  ) {
    super(message);
  }
}

export interface MqttDriverArgs {
  connection: MqttConnection;
  devices: readonly BoundDevice[];
  discover: readonly DiscoverConfig[];
  config: Readonly<GatewayConfig>;
  profiles: ReadonlyMap<string, Profile>;
  ctx: DriverContext;
}

const SESSION_EXPIRY_S = 7 * 86_400;
const STOP_WAIT_MS = 5_000;

/**
 * One MQTT session (a broker connection) or, for url `embedded`, a hook inside the gateway's own
 * broker. Messages are routed to devices by topic, unwrapped, decoded by profile and handed to
 * the pipeline; a QoS 1 message is acknowledged only once its data is committed (mqtt.js
 * handleMessage; inside the embedded broker, before its PUBACK). Rejected input is counted
 * with a reason and acknowledged: resending it cannot help. Raw payloads are never logged.
 */
export class MqttDriver implements Driver {
  readonly connectionId: string;
  private readonly router: Router;
  private readonly url: string;
  private readonly intercepting: boolean;
  private readonly options: IClientOptions;
  private client: MqttClient | undefined;
  private unintercept: (() => void) | undefined;
  private state: LinkState = 'stopped';
  private lastError: string | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopping = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly counters = { messages: 0, accepted: 0, rejected: 0, redelivered: 0, reconnects: 0, ingest_failures: 0 };
  private onFirstOutcome: (() => void) | undefined;

  constructor(private readonly args: MqttDriverArgs) {
    const { connection: c, config, ctx } = args;
    this.connectionId = c.id;
    this.router = new Router(args.devices, args.discover, args.profiles);
    if (c.url === 'embedded') {
      const emb = config.broker.embedded;
      if (!ctx.embeddedBroker && !emb) throw new MqttDriverError('MQTT_CONFIG_INVALID', `connection ${c.id}: url "embedded" needs broker.embedded in the config`);
      this.intercepting = ctx.embeddedBroker !== undefined;
      const host = emb && emb.host !== '0.0.0.0' && emb.host !== '::' ? emb.host : '127.0.0.1';
      this.url = ctx.embeddedBroker?.url ?? `mqtt://${host}:${emb?.port ?? 1883}`;
    } else {
      this.intercepting = false;
      this.url = c.url;
    }
    this.options = this.clientOptions(c);
  }

  private clientOptions(c: MqttConnection): IClientOptions {
    const read = (what: string, file: string | undefined) => {
      if (file === undefined) return undefined;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new MqttDriverError('MQTT_CONFIG_INVALID', `connection ${c.id}: cannot read tls.${what} ${file}: ${(err as Error).message}`);
      }
    };
    const o: IClientOptions = {
      clientId: c.client_id ?? `fcgw-${this.args.config.site.id}-${c.id}`,
      clean: c.clean,
      keepalive: Math.max(1, Math.round(c.keepalive / 1000)),
      protocolVersion: c.protocol_version,
      // Reconnects are ours (exponential backoff with jitter), not mqtt.js's fixed period.
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      resubscribe: false,
    };
    if (c.protocol_version === 5 && !c.clean) o.properties = { sessionExpiryInterval: SESSION_EXPIRY_S };
    if (c.username !== undefined) o.username = c.username;
    if (c.password !== undefined) o.password = c.password;
    if (c.tls) {
      const ca = read('ca', c.tls.ca);
      const cert = read('cert', c.tls.cert);
      const key = read('key', c.tls.key);
      if (ca) o.ca = ca;
      if (cert) o.cert = cert;
      if (key) o.key = key;
      o.rejectUnauthorized = c.tls.reject_unauthorized;
    }
    const { username, password } = this.args.ctx.embeddedBroker?.internalUser ?? {};
    if (c.url === 'embedded' && username && o.username === undefined) {
      o.username = username;
      o.password = password;
    }
    return o;
  }

  async start(): Promise<void> {
    if (this.client || this.unintercept) return;
    this.stopping = false;
    const broker = this.args.ctx.embeddedBroker;
    if (this.intercepting && broker) {
      this.unintercept = broker.intercept((topic, payload) => this.onIntercept(topic, payload));
      this.state = 'connected';
      this.args.ctx.log.info({ topics: this.router.filters }, 'MQTT driver listening inside the embedded broker');
      return;
    }
    this.state = 'connecting';
    const first = new Promise<void>((resolve) => (this.onFirstOutcome = resolve));
    const client = mqtt.connect(this.url, this.options);
    this.client = client;
    client.on('connect', (connack) => this.onConnect(client, connack.sessionPresent));
    client.on('close', () => this.onClose());
    client.on('error', (err) => this.onError(err));
    // mqtt.js calls handleMessage for every PUBLISH, one at a time, and sends the PUBACK only
    // when its callback runs (customHandleAcks would do the same, but only for MQTT 5).
    client.handleMessage = (packet, callback) => this.onPublish(packet, callback);
    // start() does not wait for a broker that is down: the driver keeps retrying (health says so).
    await Promise.race([first, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private onConnect(client: MqttClient, sessionPresent: boolean): void {
    this.attempt = 0;
    this.lastError = undefined;
    client.subscribe(this.router.filters, { qos: 1 }, (err, granted) => {
      const refused = granted?.filter((g) => g.qos === 128).map((g) => g.topic) ?? [];
      if (err || refused.length) {
        this.lastError = err ? `subscribe failed: ${err.message}` : `subscription refused: ${refused.join(', ')}`;
        this.args.ctx.metrics.linkError('subscribe');
        this.args.ctx.log.error({ topics: refused }, this.lastError);
      }
      this.state = 'connected';
      this.args.ctx.log.info({ url: this.url, topics: this.router.filters, sessionPresent }, 'MQTT connected');
      this.firstOutcome();
    });
  }

  private onClose(): void {
    if (this.stopping) return;
    this.state = 'backoff';
    this.args.ctx.metrics.linkError('disconnect');
    this.firstOutcome();
    const { reconnect_min: min, reconnect_max: max } = this.args.connection;
    const base = Math.min(max, min * 2 ** Math.min(this.attempt, 20));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.stopping || !this.client) return;
      this.counters.reconnects++;
      this.state = 'connecting';
      this.client.reconnect();
    }, delay);
  }

  private onError(err: Error & { code?: string | number }): void {
    this.lastError = err.message;
    this.args.ctx.metrics.linkError(typeof err.code === 'string' ? err.code.toLowerCase() : 'error');
    this.args.ctx.log.warn({ url: this.url, code: err.code, err: err.message }, 'MQTT connection error');
  }

  private firstOutcome(): void {
    this.onFirstOutcome?.();
    this.onFirstOutcome = undefined;
  }

  private onPublish(packet: Packet, callback: (err?: Error) => void): void {
    if (packet.cmd !== 'publish') return callback();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const work = this.safeProcess(packet.topic, payload, packet.dup);
    if (!work) return callback();
    // QoS 0 waits for the commit too: holding the packet loop is the backpressure that bounds memory.
    work.then(
      () => callback(),
      (err: Error) => {
        // Not committed: no PUBACK. Drop the connection so the broker sends it again after the backoff.
        this.ingestFailed(err);
        callback(err);
        this.client?.end(true);
      },
    );
  }

  private onIntercept(topic: string, payload: Buffer): Promise<void> | undefined {
    // Topics that are none of ours pass through the broker untouched.
    if (!this.router.route(topic)) return undefined;
    const work = this.safeProcess(topic, payload);
    return work?.catch((err: Error) => {
      this.ingestFailed(err);
      throw err;
    });
  }

  private ingestFailed(err: Error): void {
    this.counters.ingest_failures++;
    this.lastError = `ingest failed: ${err.message}`;
    this.args.ctx.metrics.linkError('ingest');
    this.args.ctx.log.error({ err: err.message }, 'MQTT message not committed; the broker will send it again');
  }

  /** process() wrapped so that a bug can never stop the packet loop. */
  private safeProcess(topic: string, payload: Buffer, redelivery = false): Promise<void> | undefined {
    try {
      const work = this.process(topic, payload, redelivery);
      if (!work) return undefined;
      this.inflight.add(work);
      const done = () => void this.inflight.delete(work);
      work.then(done, done);
      return work;
    } catch (err) {
      this.refuse(undefined, topic, 'internal_error', (err as Error).message);
      return undefined;
    }
  }

  private process(topic: string, payload: Buffer, redelivery: boolean): Promise<void> | undefined {
    this.counters.messages++;
    this.args.ctx.metrics.messages(1);
    const route = this.router.route(topic);
    if (!route) return this.refuse(undefined, topic, 'unknown_topic', 'no device or discovery rule for this topic');
    const known = route.kind === 'device' ? route.device : undefined;
    const prep = prepare(route.kind === 'device' ? route.device : route.rule, payload);
    if (!prep.ok) return this.refuse(known?.id, topic, prep.problem.reason, prep.problem.detail);
    let device: DeviceRuntime;
    if (route.kind === 'device') device = route.device;
    else {
      const ctx = this.args.ctx;
      const add = ctx.addDevice ? ctx.addDevice.bind(ctx) : undefined;
      const found = this.router.discover(route.rule, route.vars, prep.message, prep.unwrapped.meta, this.connectionId, add);
      if ('reason' in found) return this.refuse(undefined, topic, found.reason, found.detail);
      device = found.device;
    }
    const now = this.args.ctx.clock.now();
    const dec = device.decoder.decode(device.id, decodeInput(prep.unwrapped, route.vars, now));
    if (!dec.ok) return this.refuse(device.id, topic, dec.problem.reason, dec.problem.detail);
    const { ts, hasSourceTs, readings, events } = dec.value;
    const why = refusal(device, ts, hasSourceTs, payload);
    // The broker sends a message again (DUP) when it did not see our PUBACK, e.g. it restarted
    // right after we acknowledged. Older than what we stored: it was stored (messages of one
    // session are committed in order), so it is acknowledged quietly, not counted as bad input.
    if (why && redelivery) {
      this.counters.redelivered++;
      return undefined;
    }
    if (why) return this.refuse(device.id, topic, why, why === 'duplicate' ? 'the same message again' : `time ${ts} is older than the last one`);
    const batch: IngestBatch = {};
    if (readings.length) batch.readings = readings;
    if (events.length) batch.events = events;
    const mark = remember(device, ts, hasSourceTs, payload, now);
    return this.args.ctx.ingest(batch).then(
      () => void this.counters.accepted++,
      (err: unknown) => {
        forget(device, mark);
        throw err;
      },
    );
  }

  /** Count and report a refused message: topic and reason only, never the payload. */
  private refuse(device: string | undefined, topic: string, reason: string, detail: string): undefined {
    this.counters.rejected++;
    this.args.ctx.reject({ ...(device ? { device } : {}), connection: this.connectionId, reason, detail: `${topic}: ${detail}` });
    return undefined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstOutcome();
    this.unintercept?.();
    this.unintercept = undefined;
    const client = this.client;
    this.client = undefined;
    if (this.inflight.size) await Promise.race([Promise.allSettled([...this.inflight]), delay(STOP_WAIT_MS)]);
    if (client) {
      await Promise.race([new Promise<void>((r) => client.end(false, {}, () => r())), delay(STOP_WAIT_MS)]);
      client.end(true);
      client.removeAllListeners();
    }
    this.state = 'stopped';
  }

  health(): DriverHealth {
    const h: DriverHealth = {
      connection: this.connectionId,
      protocol: 'mqtt',
      state: this.state,
      devices: [...this.router.devices.values()].map((d) =>
        d.lastSeen === undefined ? { id: d.id, state: 'unknown' as const } : { id: d.id, state: 'online' as const, lastSeen: d.lastSeen },
      ),
      counters: { ...this.counters },
    };
    if (this.lastError) h.error = this.lastError;
    return h;
  }

  explain(deviceId: string): string[] {
    return explainDevice(this.router, deviceId, this.intercepting ? `${this.url} (inside the embedded broker)` : this.url);
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
