import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { checkValue, findCommand, commandsOf, type CommandValue } from '../../drivers/core/commands.js';
import type { Driver, DriverHealth } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { LiveHub } from '../api/live.js';
import type { DeviceConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import type { GatewayEvent } from '../model/types.js';
import type { Store } from '../store/store.js';
import { AuditLog, type AuditRow, type AuditStatus } from './audit.js';
import { dwellUntil, holdingInterlocks, RateLimiter } from './guards.js';
import type { ControlConfig } from './schema.js';
import { sameValue, watchReport } from './verify.js';

/**
 * Commands to devices, made safe: the caller is an admin (the API checked the token; its name
 * comes here), the value is within its command's bounds, the device is not held by an interlock,
 * not over its rate, and the command's dwell has passed. Then the command is audited (committed
 * before anything is sent), carried out by the device's driver, and verified within its deadline
 * by a read-back (or the device's own report); whatever the outcome, the audit row is completed
 * and the outcome goes to the sinks as an event (`command`).
 */

export interface CommandInput {
  device: string;
  command: string;
  value?: unknown;
  dryRun?: boolean;
  idempotencyKey?: string;
  /** The token's name (API), `cli`, or `surplus-control`. */
  caller: string;
  origin: 'api' | 'surplus';
  /** Why the caller asks (surplus control's reason), kept in the audit. */
  why?: string;
}

export interface CommandOutcome {
  id?: number;
  status: AuditStatus;
  device: string;
  command: string;
  value: CommandValue;
  dry_run: boolean;
  /** HTTP status the API answers with. */
  http: number;
  code?: string;
  reason?: string;
  /** The bound a refused value broke. */
  bound?: string;
  read_back?: unknown;
  /** The same idempotency key was used before: this is that command's outcome, not a new one. */
  replayed?: boolean;
}

export interface ControlDeps {
  control: () => ControlConfig;
  /** Retention of the data about devices (ms): the audit is kept as long as the longest. */
  retentionMs: () => number;
  device(id: string): { config: DeviceConfig; profile: Profile } | undefined;
  driver(connection: string): Driver | undefined;
  driverHealth(): DriverHealth[];
  store: Store;
  live: LiveHub;
  clock: Clock;
  log: Logger;
  /** Store the outcome as an event and wake the sinks. */
  emit(event: Omit<GatewayEvent, 'site'>): void;
}

export class ControlService {
  readonly audit: AuditLog;
  private readonly limiter: RateLimiter;
  private readonly inFlight = new Map<string, Promise<CommandOutcome>>();
  private readonly busy = new Set<string>();
  private pruneTimer: NodeJS.Timeout | undefined;
  readonly counters = { accepted: 0, refused: 0, failed: 0, succeeded: 0, dry_run: 0 };

  constructor(private readonly d: ControlDeps) {
    this.audit = new AuditLog(d.store);
    this.limiter = new RateLimiter(d.control().rate_per_minute);
  }

  /** Close what a crash left pending; prune the audit hourly. */
  start(): void {
    const ids = this.audit.closeInterrupted(this.d.clock.now());
    if (ids.length) this.d.log.warn({ ids }, 'commands interrupted by a stop before their read-back are recorded as failed');
    // The sinks learn the outcome too.
    for (const id of ids) {
      const row = this.audit.get(id);
      if (!row) continue;
      const input: CommandInput = { device: row.device, command: row.command, value: JSON.parse(row.value) as unknown, caller: row.caller, origin: row.origin === 'surplus' ? 'surplus' : 'api' };
      this.outcome(id, input, { device: row.device, command: row.command, value: JSON.parse(row.value) as CommandValue, dry_run: false }, 'failed', { http: 502, code: 'INTERRUPTED', reason: row.reason ?? 'interrupted' });
    }
    this.prune();
    this.pruneTimer = setInterval(() => this.prune(), 3_600_000);
    this.pruneTimer.unref();
  }

  stop(): void {
    clearInterval(this.pruneTimer);
  }

  private prune(): void {
    const n = this.audit.prune(this.d.clock.now() - this.d.retentionMs());
    if (n) this.d.log.info({ rows: n }, 'audit rows older than every kept sample, rollup and event removed');
  }

  /** The commands a device takes (for the API and the dashboard). */
  commandsOf(id: string): { name: string; description?: string | undefined; value: unknown; dwell: number }[] {
    const dev = this.d.device(id);
    if (!dev) return [];
    return commandsOf(dev.profile)
      .filter((c) => c.class === undefined || c.class === dev.config.class)
      .map((c) => ({ name: c.name, description: c.description, value: c.value, dwell: c.dwell }));
  }

  execute(input: CommandInput): Promise<CommandOutcome> {
    const key = input.idempotencyKey;
    if (key === undefined) return this.run(input);
    const flight = `${input.caller}\u0000${key}`;
    const running = this.inFlight.get(flight);
    if (running) return running.then((o) => (sameRequest(o, input) ? { ...o, replayed: true } : keyReused(input)));
    const stored = this.audit.byKey(input.caller, key);
    if (stored) return Promise.resolve(stored.request_hash === requestHash(input) ? { ...outcomeOf(stored), replayed: true } : keyReused(input));
    const p = this.run(input).finally(() => this.inFlight.delete(flight));
    this.inFlight.set(flight, p);
    return p;
  }

  private async run(input: CommandInput): Promise<CommandOutcome> {
    const now = this.d.clock.now();
    const cfg = this.d.control();
    const dev = this.d.device(input.device);
    const base = { device: input.device, command: input.command, value: (input.value ?? null) as CommandValue, dry_run: input.dryRun === true || cfg.dry_run };
    if (!dev) return { ...base, status: 'refused', http: 404, code: 'UNKNOWN_DEVICE', reason: `no device ${input.device}` };
    const def = findCommand(dev.profile, dev.config.class, input.command);
    if (!def) {
      const known = this.commandsOf(input.device).map((c) => c.name);
      return { ...base, status: 'refused', http: 404, code: 'UNKNOWN_COMMAND', reason: `device ${input.device} takes ${known.length ? `the commands ${known.join(', ')}` : 'no commands'}, not ${input.command}` };
    }
    const refuse = (http: number, code: string, reason: string, bound?: string) => this.record(input, base, now, 'refused', { http, code, reason, ...(bound ? { bound } : {}) });

    const options = dev.config.options as Record<string, unknown>;
    if (def.value.type === 'number' && def.value.rating !== undefined && !(typeof options[def.value.rating] === 'number' && (options[def.value.rating] as number) > 0))
      return refuse(400, 'NO_RATING', `device ${input.device} has no rating (options.${def.value.rating}): its ${def.name} cannot be bounded`);
    const checked = checkValue(def.value, input.value, options);
    if (!checked.ok) return refuse(400, 'OUT_OF_BOUNDS', checked.message, checked.bound);
    base.value = checked.value;

    if (!this.limiter.take(input.device, now)) return refuse(429, 'RATE_LIMITED', `more than ${cfg.rate_per_minute} commands a minute to ${input.device}`);
    const offline = this.d.driverHealth().flatMap((h) => h.devices).find((x) => x.id === input.device && (x.state === 'offline' || x.state === 'quarantined'));
    if (offline) return refuse(409, 'INTERLOCK', `device ${input.device} is ${offline.state}${offline.error ? ` (${offline.error})` : ''}`);
    const held = holdingInterlocks(cfg.interlocks, input.device, def.name, (device, metric) => this.d.store.reads.latest({ device }).find((r) => r.metric === metric), now);
    if (held.length) return refuse(409, 'INTERLOCK', held.join('; '));
    const last = this.audit.lastChange(input.device, def.name);
    const until = dwellUntil(last, JSON.stringify(checked.value), def.dwell);
    if (until !== undefined && until > now)
      return refuse(409, 'DWELL', `${def.name} of ${input.device} changed at ${new Date(last?.ts ?? 0).toISOString()}; the next change is allowed from ${new Date(until).toISOString()} (dwell ${def.dwell / 1000} s)`);

    if (base.dry_run) return this.record(input, base, now, 'dry_run', { http: 200, reason: 'every check passed; nothing was sent (dry run)' });
    if (this.busy.has(input.device)) return refuse(409, 'BUSY', `a command to ${input.device} is still waiting for its read-back`);

    const driver = this.d.driver(dev.config.connection);
    if (!driver?.command) return refuse(501, 'NOT_SUPPORTED', `the driver of connection ${dev.config.connection} takes no commands`);

    // Committed before anything is sent: a crash from here on leaves a pending row, closed as failed at the next start.
    const id = this.audit.insert(this.row(input, base, now, 'pending'));
    this.busy.add(input.device);
    const watch = def.verify.event !== undefined || def.verify.metric !== undefined ? watchReport(this.d.live, input.device, def, checked.value) : undefined;
    let status: AuditStatus = 'failed';
    let f: { http: number; code?: string; reason?: string; readBack?: unknown } = { http: 502 };
    try {
      const signal = AbortSignal.timeout(def.verify.deadline);
      const res = await withDeadline(driver.command({ device: input.device, command: def.name, value: checked.value, request: String(id), signal }), def.verify.deadline);
      let readBack: unknown = res.readBack;
      if (readBack === undefined && watch) readBack = await watch.result(def.verify.deadline);
      if (readBack === undefined) f = { http: 502, code: 'READBACK_TIMEOUT', reason: `the device did not confirm ${def.name} within ${def.verify.deadline} ms` };
      else if (res.readBack !== undefined && !sameValue(readBack, checked.value))
        f = { http: 502, code: 'READBACK_MISMATCH', reason: `the device reads back ${JSON.stringify(readBack)}, not ${JSON.stringify(checked.value)}`, readBack };
      else {
        status = 'succeeded';
        f = { http: 200, readBack };
      }
    } catch (err) {
      const e = err as Error & { code?: string };
      f = { http: 502, code: e.code ?? 'DEVICE_ERROR', reason: e.message };
    } finally {
      watch?.cancel();
      this.busy.delete(input.device);
    }
    return this.finish(id, input, base, status, f);
  }

  private row(input: CommandInput, base: { value: CommandValue; dry_run: boolean }, ts: number, status: AuditStatus): Omit<AuditRow, 'id'> {
    return {
      ts,
      device: input.device,
      command: input.command,
      value: JSON.stringify(base.value),
      caller: input.caller,
      origin: input.origin,
      why: input.why ?? null,
      idempotency_key: input.idempotencyKey ?? null,
      request_hash: input.idempotencyKey === undefined ? null : requestHash(input),
      dry_run: base.dry_run ? 1 : 0,
      status,
      code: null,
      reason: null,
      read_back: null,
      finished_ts: null,
    };
  }

  /** A refusal or a dry run: audited in one write. */
  private record(input: CommandInput, base: Omit<CommandOutcome, 'status' | 'http'>, ts: number, status: AuditStatus, f: { http: number; code?: string; reason?: string; bound?: string }): CommandOutcome {
    const id = this.audit.insert({ ...this.row(input, base, ts, status), code: f.code ?? null, reason: f.reason ?? null, finished_ts: ts });
    return this.outcome(id, input, base, status, f);
  }

  private finish(id: number, input: CommandInput, base: Omit<CommandOutcome, 'status' | 'http'>, status: AuditStatus, f: { http: number; code?: string; reason?: string; readBack?: unknown }): CommandOutcome {
    this.audit.finish(id, status, f, this.d.clock.now());
    return this.outcome(id, input, base, status, { ...f, ...(f.readBack !== undefined ? { read_back: f.readBack } : {}) });
  }

  private outcome(id: number, input: CommandInput, base: Omit<CommandOutcome, 'status' | 'http'>, status: AuditStatus, f: { http: number; code?: string; reason?: string; bound?: string; read_back?: unknown }): CommandOutcome {
    const o: CommandOutcome = { id, ...base, status, http: f.http };
    if (f.code) o.code = f.code;
    if (f.reason) o.reason = f.reason;
    if (f.bound) o.bound = f.bound;
    if (f.read_back !== undefined) o.read_back = f.read_back;
    this.counters[status === 'pending' ? 'accepted' : status]++;
    const log = status === 'succeeded' || status === 'dry_run' ? this.d.log.info.bind(this.d.log) : this.d.log.warn.bind(this.d.log);
    log({ id, device: input.device, command: input.command, value: base.value, caller: input.caller, status, code: o.code, reason: o.reason }, `command ${status}`);
    const attributes: GatewayEvent['attributes'] = { id, command: input.command, value: JSON.stringify(base.value), status, caller: input.caller, origin: input.origin, dry_run: base.dry_run };
    if (o.code) attributes['code'] = o.code;
    if (o.reason) attributes['reason'] = o.reason.slice(0, 300);
    if (o.read_back !== undefined) attributes['read_back'] = JSON.stringify(o.read_back);
    if (input.why) attributes['why'] = input.why.slice(0, 300);
    const cls = this.d.device(input.device)?.config.class ?? 'unknown';
    try {
      this.d.emit({ device: input.device, class: cls, type: 'command', ts: this.d.clock.now(), attributes });
    } catch (err) {
      // The audit row is committed; the event is the sinks' copy of it.
      this.d.log.error({ err, id }, 'command event not stored');
    }
    return o;
  }
}

function requestHash(i: CommandInput): string {
  return createHash('sha256').update(JSON.stringify([i.device, i.command, i.value ?? null, i.dryRun === true])).digest('hex');
}

function sameRequest(o: CommandOutcome, i: CommandInput): boolean {
  return o.device === i.device && o.command === i.command && JSON.stringify(o.value) === JSON.stringify(i.value ?? null);
}

function keyReused(i: CommandInput): CommandOutcome {
  return { device: i.device, command: i.command, value: (i.value ?? null) as CommandValue, dry_run: i.dryRun === true, status: 'refused', http: 422, code: 'IDEMPOTENCY_KEY_REUSED', reason: 'this idempotency key was used for a different command' };
}

/** What an audit row says, as an outcome (an idempotent replay). */
export function outcomeOf(r: AuditRow): CommandOutcome {
  const http = r.status === 'succeeded' || r.status === 'dry_run' ? 200 : r.status === 'pending' ? 202 : r.status === 'failed' ? 502 : 409;
  const o: CommandOutcome = { id: r.id, status: r.status, device: r.device, command: r.command, value: JSON.parse(r.value) as CommandValue, dry_run: r.dry_run === 1, http };
  if (r.code) o.code = r.code;
  if (r.reason) o.reason = r.reason;
  if (r.read_back !== null) o.read_back = JSON.parse(r.read_back) as unknown;
  return o;
}

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(Object.assign(new Error(`the device did not answer within ${ms} ms`), { code: 'READBACK_TIMEOUT' })), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
