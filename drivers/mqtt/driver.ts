import type { CommandRequest, CommandResult } from '../core/commands.js';
import { commandMessage, MqttCommandError } from './commands.js';
import { readFileSync } from 'node:fs';
import type { IPublishPacket } from 'mqtt-packet';
import type { DiscoverConfig } from '../../gateway/model/site-config.js';
import type { EventReading, Reading } from '../../gateway/model/types.js';
import type { BoundDevice, Driver, DriverContext, DriverHealth, IngestBatch, LinkState } from '../core/driver.js';
import type { Loaded, Profile } from '../profiles/schema.js';
import type { MqttConnection } from './connection-schema.js';
import type { MqttProfile } from './profile-schema.js';
import { explainDevice } from './explain.js';
import { decodeInput, prepare } from './message.js';
import { Router } from './router.js';
import { forget, refusal, remember, type DeviceRuntime, type Remembered } from './runtime.js';
import { Session, type SessionOptions } from './session.js';
import { dialHost } from '../../gateway/model/hosts.js';
import { redactSecrets, withoutCredentials } from '../../gateway/model/redact.js';

export type { MqttConnection } from './connection-schema.js';

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
  devices: readonly BoundDevice<Loaded<MqttProfile>>[];
  discover: readonly DiscoverConfig[];
  profiles: ReadonlyMap<string, Profile>;
  ctx: DriverContext;
}

const SESSION_EXPIRY_S = 7 * 86_400;
const STOP_WAIT_MS = 5_000;
const MAX_UNACKED = 20_000;

interface Accepted {
  device: DeviceRuntime;
  readings: Reading[];
  events: EventReading[];
  mark: Remembered;
}

/**
 * One MQTT session (a broker connection) or, for url `embedded`, a hook inside the gateway's own
 * broker. Messages are routed to devices by topic, unwrapped, decoded by profile and handed to
 * the pipeline; a QoS 1 message is acknowledged only once its data is committed (the PUBACKs of
 * a batch follow its commit; inside the embedded broker the hook runs before its PUBACK).
 * Refused input is counted with a reason and acknowledged: resending it cannot help.
 * Raw payloads are never logged.
 */
export class MqttDriver implements Driver {
  readonly connectionId: string;
  private readonly router: Router;
  /** For logs, health and explain: the configured URL with any password in it redacted. */
  private readonly url: string;
  private readonly intercepting: boolean;
  private readonly session: Omit<SessionOptions, 'filters'>;
  private current: Session | undefined;
  private unintercept: (() => void) | undefined;
  private state: LinkState = 'stopped';
  private lastError: string | undefined;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly counters = { messages: 0, accepted: 0, rejected: 0, duplicates: 0, redelivered: 0, reconnects: 0, ingest_failures: 0 };
  private onFirstOutcome: (() => void) | undefined;

  constructor(private readonly args: MqttDriverArgs) {
    const { connection: c, ctx } = args;
    this.connectionId = c.id;
    this.router = new Router(args.devices, args.discover, args.profiles);
    let username = c.username;
    let password = c.password;
    if (c.url === 'embedded') {
      // The site checked that broker.embedded is configured; `fcgw explain` builds drivers without starting it.
      this.intercepting = ctx.embeddedBroker !== undefined;
      this.url = ctx.embeddedBroker?.url ?? `mqtt://${dialHost(ctx.embeddedBrokerAddress?.host ?? '127.0.0.1')}:${ctx.embeddedBrokerAddress?.port ?? 1883}`;
      if (username === undefined && ctx.embeddedBroker) ({ username, password } = ctx.embeddedBroker.internalUser);
    } else {
      this.intercepting = false;
      this.url = redactSecrets(c.url);
    }
    let url: URL;
    try {
      url = new URL(c.url === 'embedded' ? this.url : c.url);
    } catch {
      throw new MqttDriverError('MQTT_CONFIG_INVALID', `connection ${c.id}: "${this.url}" is not a URL (use mqtt://host:1883 or mqtts://host:8883)`);
    }
    // Credentials in the URL (check-config warns about them) are used when the separate fields
    // are absent, as mqtt.js would; the session itself only ever sees the bare URL.
    if (username === undefined && url.username) {
      username = decodeURIComponent(url.username);
      if (password === undefined && url.password) password = decodeURIComponent(url.password);
    }
    url = withoutCredentials(url);
    if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:'].includes(url.protocol))
      throw new MqttDriverError('MQTT_CONFIG_INVALID', `connection ${c.id}: ${url.protocol}// is not supported (use mqtt:// or mqtts://)`);
    const read = (what: string, file: string | undefined) => {
      if (file === undefined) return undefined;
      try {
        return readFileSync(file);
      } catch (err) {
        throw new MqttDriverError('MQTT_CONFIG_INVALID', `connection ${c.id}: cannot read tls.${what} ${file}: ${(err as Error).message}`);
      }
    };
    this.session = {
      url,
      clientId: c.client_id ?? `fcgw-${ctx.site}-${c.id}`,
      clean: c.clean,
      keepaliveS: Math.max(1, Math.round(c.keepalive / 1000)),
      protocolVersion: c.protocol_version,
      username,
      password,
      tls: c.tls ? { ca: read('ca', c.tls.ca), cert: read('cert', c.tls.cert), key: read('key', c.tls.key), rejectUnauthorized: c.tls.reject_unauthorized } : undefined,
      sessionExpiryS: SESSION_EXPIRY_S,
      maxUnacked: MAX_UNACKED,
      connectTimeoutMs: 10_000,
    };
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const broker = this.args.ctx.embeddedBroker;
    if (this.intercepting && broker) {
      this.unintercept = broker.intercept((topic, payload) => this.onIntercept(topic, payload));
      this.state = 'connected';
      this.args.ctx.log.info({ topics: this.router.filters }, 'MQTT driver listening inside the embedded broker');
      return;
    }
    const first = new Promise<void>((resolve) => (this.onFirstOutcome = resolve));
    this.connect();
    // start() does not wait for a broker that is down: the driver keeps retrying (health says so).
    await Promise.race([first, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private connect(): void {
    this.state = 'connecting';
    const s: Session = new Session(
      { ...this.session, filters: this.router.filters },
      {
        messages: (batch) => this.onBatch(batch),
        up: (sessionPresent) => {
          this.attempt = 0;
          this.state = 'connected';
          this.lastError = undefined;
          this.args.ctx.log.info({ url: this.url, topics: this.router.filters, sessionPresent }, 'MQTT connected');
          this.firstOutcome();
        },
        refused: (filters) => {
          this.lastError = `subscription refused: ${filters.join(', ')}`;
          this.args.ctx.metrics.linkError('subscribe');
          this.args.ctx.log.error({ topics: filters }, this.lastError);
        },
        down: (err) => this.onDown(s, err),
      },
    );
    this.current = s;
    s.open();
  }

  private onDown(s: Session, err: Error | undefined): void {
    if (this.current !== s || !this.running) return;
    this.current = undefined;
    if (err) {
      this.lastError = redactSecrets(err.message);
      this.args.ctx.log.warn({ url: this.url, code: (err as { code?: string }).code, err: this.lastError }, 'MQTT connection lost');
    }
    this.args.ctx.metrics.linkError(err && 'code' in err ? String(err.code).toLowerCase() : 'disconnect');
    this.state = 'backoff';
    this.firstOutcome();
    const { reconnect_min: min, reconnect_max: max } = this.args.connection;
    const base = Math.min(max, min * 2 ** Math.min(this.attempt, 20));
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.running) return;
      this.counters.reconnects++;
      this.connect();
    }, delay);
  }

  private firstOutcome(): void {
    this.onFirstOutcome?.();
    this.onFirstOutcome = undefined;
  }

  /** A socket read's worth of messages: decoded one by one, committed as one batch. */
  private async onBatch(packets: IPublishPacket[]): Promise<void> {
    this.args.ctx.metrics.messages(packets.length);
    const accepted: Accepted[] = [];
    for (const p of packets) {
      const payload = typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload;
      const a = this.decode(p.topic, payload, p.dup);
      if (a) accepted.push(a);
    }
    if (accepted.length) await this.commit(accepted);
  }

  private onIntercept(topic: string, payload: Buffer): Promise<void> | undefined {
    // Topics that are none of ours pass through the broker untouched.
    if (!this.router.route(topic)) return undefined;
    this.args.ctx.metrics.messages(1);
    const a = this.decode(topic, payload, false);
    return a ? this.commit([a]) : undefined;
  }

  private async commit(accepted: Accepted[]): Promise<void> {
    const readings: Reading[] = [];
    const events: EventReading[] = [];
    for (const a of accepted) {
      for (const r of a.readings) readings.push(r);
      for (const e of a.events) events.push(e);
    }
    const batch: IngestBatch = {};
    if (readings.length) batch.readings = readings;
    if (events.length) batch.events = events;
    try {
      await this.args.ctx.ingest(batch);
      this.counters.accepted += accepted.length;
    } catch (err) {
      // Newest first, so each device's last time unwinds to what was committed.
      for (const a of [...accepted].reverse()) forget(a.device, a.mark);
      this.counters.ingest_failures++;
      this.lastError = `ingest failed: ${(err as Error).message}`;
      this.args.ctx.metrics.linkError('ingest');
      this.args.ctx.log.error({ err: (err as Error).message }, 'MQTT messages not committed; the broker will send them again');
      throw err;
    }
  }

  /** Route, unwrap, decode and check one message; refused input is reported here. A bug never escapes. */
  private decode(topic: string, payload: Buffer, redelivery: boolean): Accepted | undefined {
    try {
      return this.decodeUnsafe(topic, payload, redelivery);
    } catch (err) {
      this.refuse(undefined, topic, 'internal_error', (err as Error).message);
      return undefined;
    }
  }

  private decodeUnsafe(topic: string, payload: Buffer, redelivery: boolean): Accepted | undefined {
    this.counters.messages++;
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
      const found = this.router.discover(topic, route.rule, route.vars, prep.message, prep.unwrapped.meta, this.connectionId, add);
      if ('reason' in found) return this.refuse(undefined, topic, found.reason, found.detail);
      device = found.device;
    }
    const now = this.args.ctx.clock.now();
    const dec = device.decoder.decode(device.id, decodeInput(prep.unwrapped, route.vars, now));
    if (!dec.ok) return this.refuse(device.id, topic, dec.problem.reason, dec.problem.detail);
    const { ts, hasSourceTs, readings, events } = dec.value;
    const identity = prep.unwrapped.identity ?? [];
    const why = refusal(device, ts, hasSourceTs, payload, now, identity);
    if (why === 'duplicate') {
      // A copy (a QoS 1 redelivery, the same uplink through a second gateway, a batch sent
      // twice): acknowledged and counted as a duplicate, not as bad input. Copies this check
      // does not see (older than its memory, after a restart) are recognised by the store.
      if (redelivery) this.counters.redelivered++;
      this.counters.duplicates++;
      this.args.ctx.reject({ device: device.id, connection: this.connectionId, reason: 'duplicate', detail: `${topic}: the same message again` });
      return undefined;
    }
    if (why) return this.refuse(device.id, topic, why, why === 'bad_timestamp' ? `time ${new Date(ts).toISOString()} is more than a day ahead of the gateway's clock, or before 2000` : `time ${new Date(ts).toISOString()} is older than the last one (${new Date(device.lastTs).toISOString()}) and the profile says out_of_order: reject`);
    return { device, readings, events, mark: remember(device, ts, hasSourceTs, payload, now, identity) };
  }

  /** Count and report a refused message: topic and reason only, never the payload. */
  private refuse(device: string | undefined, topic: string, reason: string, detail: string): undefined {
    this.counters.rejected++;
    this.args.ctx.reject({ ...(device ? { device } : {}), connection: this.connectionId, reason, detail: `${topic}: ${detail}` });
    return undefined;
  }

  /** A command: its JSON message on the device's command topic (the device confirms by its own report). */
  async command(req: CommandRequest): Promise<CommandResult> {
    const device = this.router.devices.get(req.device);
    if (!device) throw new MqttCommandError('MQTT_COMMAND_UNKNOWN', `${req.device} is not a device of connection ${this.connectionId} (a discovered device must have reported once)`);
    const vars = { ...(this.router.varsOf.get(req.device) ?? { device: req.device }), request: req.request ?? '' };
    const m = commandMessage(device.profile, device.cls, req.command, req.value, vars);
    const broker = this.args.ctx.embeddedBroker;
    if (this.intercepting && broker?.publish) await broker.publish(m.topic, m.payload, { qos: m.qos });
    else if (!this.current?.publish(m.topic, m.payload, m.qos)) throw new MqttCommandError('MQTT_NOT_CONNECTED', `connection ${this.connectionId} is not connected to its broker`);
    this.args.ctx.log.info({ device: req.device, command: req.command, topic: m.topic }, 'command published');
    return {};
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.firstOutcome();
    this.unintercept?.();
    this.unintercept = undefined;
    const s = this.current;
    this.current = undefined;
    await s?.close(STOP_WAIT_MS);
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
