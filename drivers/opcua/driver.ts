import { redactSecrets } from '../../gateway/model/redact.js';
import type { Reading } from '../../gateway/model/types.js';
import type { CommandRequest, CommandResult } from '../core/commands.js';
import type { BoundDevice, DeviceState, Driver, DriverContext, DriverHealth, LinkState } from '../core/driver.js';
import { OpcuaCommandError, opcuaCommand, runCommand } from './commands.js';
import { describeNode, planDevice, type PlannedNode } from './nodes.js';
import type { Loaded } from '../profiles/schema.js';
import type { OpcuaProfile } from './profile-schema.js';
import { toReading } from './quality.js';
import { UaLink, type OpcuaConnection, type ResolvedNode } from './session.js';
import { loadOpcua } from './library.js';

export interface OpcuaDriverArgs {
  connection: OpcuaConnection;
  /** Devices with their profiles, as the site resolved them (class, profile and metrics already agree). */
  devices: readonly BoundDevice<Loaded<OpcuaProfile>>[];
  ctx: DriverContext;
}

/** Readings waiting for the pipeline beyond this are dropped, counted and logged (never unbounded). */
const MAX_PENDING = 200_000;
const RETRY_MIN_MS = 500;

interface DeviceEntry {
  id: string;
  bound: BoundDevice<Loaded<OpcuaProfile>>;
  nodes: PlannedNode[];
  state: DeviceState;
  error?: string;
  lastSeen?: number;
  missing: Map<string, string>;
}

/**
 * One OPC UA server (connection) and every device read through it. Readings are collected from
 * the monitored items' notifications (or polled reads), turned into readings with their OPC UA
 * quality and source timestamps, and handed to the pipeline in batches. The client reconnects
 * by itself; when it gives up, or the first connect fails past the session, everything is built
 * again with exponential backoff.
 */
export class OpcuaDriver implements Driver {
  readonly connectionId: string;
  private readonly devices = new Map<string, DeviceEntry>();
  private link: UaLink | undefined;
  private state: LinkState = 'stopped';
  private lastError: string | undefined;
  private started = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private pending: Reading[] = [];
  /** Readings of `pending` before this index were dropped (cut off in one splice now and then). */
  private pendingHead = 0;
  private flushing = false;
  private flushQueued = false;
  private readonly counters: Record<string, number> = { notifications: 0, readings: 0, reconnects: 0, sessions: 0, dropped: 0, ingest_failures: 0 };

  constructor(private readonly args: OpcuaDriverArgs) {
    this.connectionId = args.connection.id;
    for (const b of args.devices) {
      if (!b.config.enabled) continue;
      const nodes = planDevice(b.config, b.profile);
      this.devices.set(b.config.id, { id: b.config.id, bound: b, nodes, state: 'unknown', missing: new Map() });
    }
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    // A server that is down must not hold up the gateway: wait for the first session at most
    // one timeout, then let the connection come up in the background.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.connect(), new Promise<void>((r) => (timer = setTimeout(r, this.args.connection.timeout)))]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    this.started = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const link = this.link;
    this.link = undefined;
    this.state = 'stopped';
    if (link) await link.close();
    await this.flush();
  }

  health(): DriverHealth {
    const h: DriverHealth = {
      connection: this.connectionId,
      protocol: 'opcua',
      state: this.state,
      devices: [...this.devices.values()].map((d) => ({
        id: d.id,
        state: d.state,
        ...(d.error !== undefined ? { error: d.error } : {}),
        ...(d.lastSeen !== undefined ? { lastSeen: d.lastSeen } : {}),
      })),
      counters: { ...this.counters, pending: this.pending.length - this.pendingHead, monitored: (this.link?.resolved.length ?? 0) - (this.link?.polled.length ?? 0), polled: this.link?.polled.length ?? 0 },
    };
    if (this.lastError !== undefined) h.error = this.lastError;
    return h;
  }

  explain(deviceId: string): string[] {
    const d = this.devices.get(deviceId);
    if (!d) return [`${deviceId}: not a device of connection ${this.connectionId}`];
    const c = this.args.connection;
    const auth = c.username !== undefined ? `user ${c.username}` : 'anonymous';
    const lines = [`server ${c.endpoint}, security ${c.security_mode}/${c.security_policy}, ${auth}; source timestamps, OPC UA status → quality`];
    lines.push(...d.nodes.map(describeNode));
    const found = this.link?.resolved.filter((n) => n.device === deviceId);
    if (found?.length) lines.push('resolved on the server:', ...found.map((n) => `  ${n.metric} ← ${n.id}${n.effectiveUnit ? ` [${n.effectiveUnit} from the ${n.unitSource}]` : ''}`));
    for (const [metric, reason] of d.missing) lines.push(`  ${metric}: not found (${reason})`);
    return lines;
  }

  /**
   * A command from the gateway: its node written in this connection's session, then read back
   * (uncached). The control service compares the read-back with what was asked.
   */
  async command(req: CommandRequest): Promise<CommandResult> {
    const d = this.devices.get(req.device);
    if (!d) throw new OpcuaCommandError('OPCUA_COMMAND_UNKNOWN', `${req.device} is not a device of connection ${this.connectionId}`);
    const { config, profile } = d.bound;
    const { def, write } = opcuaCommand(profile, config.class, req.command);
    const link = this.link;
    if (!link?.session || this.state !== 'connected') throw new OpcuaCommandError('OPCUA_OFFLINE', `no session with ${redactSecrets(this.args.connection.endpoint)} (${this.state})`);
    const ua = loadOpcua();
    return runCommand(ua, link.session, link.namespaces, { def, write, device: config, profile: { ...(profile.root !== undefined ? { root: profile.root } : {}), ...(profile.namespace !== undefined ? { namespace: profile.namespace } : {}) }, value: req.value });
  }

  private async connect(): Promise<void> {
    if (!this.started) return;
    this.state = 'connecting';
    const nodes = [...this.devices.values()].flatMap((d) => d.nodes);
    for (const d of this.devices.values()) d.missing.clear();
    const link = new UaLink(
      this.args.connection,
      nodes,
      this.args.ctx.dataDir,
      {
        data: (n, dv, at) => this.onData(n, dv, at),
        alive: (devices) => {
          if (this.link === link) this.args.ctx.alive?.(devices);
        },
        missing: (n, reason) => this.onMissing(n, reason),
        lost: () => this.onLost(),
        restored: () => this.onRestored(),
        closed: (err) => {
          if (this.link === link) this.retry(err?.message ?? 'connection closed');
        },
        backoff: (attempt, err) => {
          this.state = 'backoff';
          this.lastError = redactSecrets(err?.message ?? `reconnecting (attempt ${attempt})`);
        },
      },
      () => this.args.ctx.clock.now(),
      this.args.ctx.log,
    );
    this.link = link;
    try {
      await link.open();
      if (this.link !== link) return;
      this.failures = 0;
      this.counters['sessions'] = (this.counters['sessions'] ?? 0) + 1;
      this.onRestored();
      this.args.ctx.log.info({ endpoint: redactSecrets(this.args.connection.endpoint), nodes: link.resolved.length, polled: link.polled.length }, 'opcua session ready');
    } catch (err) {
      if (this.link === link) this.retry((err as Error).message);
    }
  }

  /** Throw the client away and build it again after a backoff. */
  private retry(reason: string): void {
    const old = this.link;
    this.link = undefined;
    void old?.close();
    if (!this.started) return;
    this.failures++;
    this.state = 'backoff';
    // node-opcua's messages span lines; health and logs want one.
    this.lastError = redactSecrets(reason.replace(/\s+/g, ' ').trim());
    this.markDevices('offline', this.lastError);
    this.args.ctx.metrics.linkError('session');
    this.args.ctx.log.warn({ endpoint: redactSecrets(this.args.connection.endpoint), err: this.lastError, attempt: this.failures }, 'opcua connection failed; retrying');
    const max = this.args.connection.reconnect_max;
    const delay = Math.min(max, RETRY_MIN_MS * 2 ** Math.min(this.failures - 1, 20)) * (0.8 + 0.4 * Math.random());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private onLost(): void {
    this.state = 'connecting';
    this.lastError = 'connection lost';
    this.counters['reconnects'] = (this.counters['reconnects'] ?? 0) + 1;
    this.args.ctx.metrics.linkError('disconnect');
    this.markDevices('offline', 'connection lost');
  }

  private onRestored(): void {
    this.state = 'connected';
    this.lastError = undefined;
    for (const d of this.devices.values()) {
      d.state = d.missing.size === d.nodes.length ? 'offline' : 'online';
      d.error = d.missing.size ? `not found: ${[...d.missing.keys()].join(', ')}` : undefined;
    }
  }

  private markDevices(state: DeviceState, error: string): void {
    for (const d of this.devices.values()) {
      d.state = state;
      d.error = error;
    }
  }

  private onMissing(n: PlannedNode, reason: string): void {
    const d = this.devices.get(n.device);
    if (!d) return;
    d.missing.set(n.metric, reason);
    this.args.ctx.reject({ device: n.device, reason: 'node_not_found', detail: `${n.metric}: ${reason}` });
    // The metric has no value while its node is missing: say so once, as a bad sample.
    this.push({ device: n.device, metric: n.metric, value: null, ts: this.args.ctx.clock.now(), quality: 'bad', reason });
  }

  private onData(n: ResolvedNode, dv: Parameters<typeof toReading>[2], receivedAt: number): void {
    this.counters['notifications'] = (this.counters['notifications'] ?? 0) + 1;
    const r = toReading(n.device, n.mapping, dv, receivedAt);
    const d = this.devices.get(n.device);
    if (d) {
      d.lastSeen = receivedAt;
      if (this.state === 'connected') d.state = 'online';
    }
    this.push(r);
  }

  private push(r: Reading): void {
    if (this.pending.length - this.pendingHead >= MAX_PENDING) {
      this.pendingHead++;
      this.counters['dropped'] = (this.counters['dropped'] ?? 0) + 1;
      if (this.counters['dropped'] === 1) this.args.ctx.log.error({ max: MAX_PENDING }, 'opcua readings dropped: the pipeline is not keeping up');
      if (this.pendingHead >= MAX_PENDING) {
        this.pending.splice(0, this.pendingHead);
        this.pendingHead = 0;
      }
    }
    this.pending.push(r);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // Notifications of one publish arrive back to back: one batch per turn of the event loop.
      setImmediate(() => {
        this.flushQueued = false;
        void this.flush();
      });
    }
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > this.pendingHead) {
        const readings = this.pendingHead ? this.pending.slice(this.pendingHead) : this.pending;
        this.pending = [];
        this.pendingHead = 0;
        this.counters['readings'] = (this.counters['readings'] ?? 0) + readings.length;
        this.args.ctx.metrics.messages(readings.length);
        try {
          await this.args.ctx.ingest({ readings });
        } catch (err) {
          this.counters['ingest_failures'] = (this.counters['ingest_failures'] ?? 0) + 1;
          this.args.ctx.log.warn({ err, n: readings.length }, 'opcua readings not committed');
        }
      }
    } finally {
      this.flushing = false;
    }
  }
}
