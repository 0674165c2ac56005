import type { Reading } from '../../gateway/model/types.js';
import { BusError, type BusLink } from './bus-link.js';
import type { CommandRequest, CommandResult } from './commands.js';
import type { DeviceState, Driver, DriverContext, DriverHealth } from './driver.js';
import { PollScheduler } from './poll-scheduler.js';
import { backoffDelay } from './schedule.js';

/**
 * The polling half shared by the drivers of meters on an RS-485 bus (DL/T 645, CJ/T 188): each
 * meter on its own absolute schedule (PollScheduler), its reads queued on the one bus link; a
 * meter that stops answering is quarantined with exponential backoff and jitter and probed once
 * per period without retries, so a dead meter costs its neighbours one timeout. The protocol
 * lives in the `MeterDevice` each driver builds.
 */
export interface MeterDevice {
  readonly id: string;
  /** Poll period (ms). */
  readonly period: number;
  /** One poll through the link. Rejects with a BusError when the meter does not answer. */
  poll(link: BusLink, opts: { retries: number; timeoutMs: number; now: () => number }): Promise<Reading[]>;
  explain(): string[];
  /** A command for this meter (a relay, a valve), sent and read back through the link; optional. */
  command?(link: BusLink, req: CommandRequest, opts: { timeoutMs: number }): Promise<CommandResult>;
}

export interface MeterBusSettings {
  timeoutMs: number;
  retries: number;
  quarantineMinMs: number;
  quarantineMaxMs: number;
}

interface DeviceSlot {
  readonly id: string;
  readonly period: number;
  device: MeterDevice;
  state: DeviceState;
  error?: string;
  lastSeen?: number;
  failures: number;
  quarantineUntil: number;
}

export class MeterBusDriver implements Driver {
  private readonly slots: DeviceSlot[];
  private readonly scheduler: PollScheduler<DeviceSlot>;
  private readonly counters: Record<string, number> = { polls: 0, overruns: 0, readings: 0, ingest_failures: 0 };
  private started = false;

  constructor(
    readonly connectionId: string,
    private readonly protocol: string,
    readonly link: BusLink,
    devices: readonly MeterDevice[],
    private readonly settings: MeterBusSettings,
    private readonly ctx: DriverContext,
    private readonly random: () => number = Math.random,
  ) {
    this.slots = devices.map((device) => ({ id: device.id, period: device.period, device, state: 'unknown', failures: 0, quarantineUntil: 0 }));
    this.scheduler = new PollScheduler(this.slots, {
      connected: () => this.link.state === 'connected',
      poll: (d) => this.run(d),
      overrun: () => this.count('overruns'),
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.link.onState((s) => {
      if (s !== 'connected') for (const d of this.slots) if (d.state !== 'quarantined') d.state = 'offline';
    });
    await this.link.start();
    this.scheduler.start();
  }

  async stop(): Promise<void> {
    this.started = false;
    this.scheduler.stop();
    await this.link.stop();
  }

  health(): DriverHealth {
    const h: DriverHealth = {
      connection: this.connectionId,
      protocol: this.protocol,
      state: this.link.state,
      devices: this.slots.map((d) => ({ id: d.device.id, state: d.state, ...(d.error !== undefined ? { error: d.error } : {}), ...(d.lastSeen !== undefined ? { lastSeen: d.lastSeen } : {}) })),
      counters: { ...this.counters, ...this.link.counters, queued: this.link.queued },
    };
    if (this.link.lastError !== undefined) h.error = this.link.lastError;
    return h;
  }

  explain(deviceId: string): string[] {
    const d = this.slots.find((s) => s.device.id === deviceId);
    if (!d) return [`${deviceId}: not a device of connection ${this.connectionId}`];
    const s = this.settings;
    return [`bus ${this.connectionId}: ${this.protocol} on ${this.link.describe()}, timeout ${s.timeoutMs} ms, retries ${s.retries}`, ...d.device.explain()];
  }

  /** A command from the gateway, queued on the bus like a poll (one exchange at a time). */
  async command(req: CommandRequest): Promise<CommandResult> {
    const d = this.slots.find((s) => s.device.id === req.device)?.device;
    if (!d?.command) throw Object.assign(new Error(`${req.device} takes no commands on connection ${this.connectionId}`), { code: 'COMMAND_UNSUPPORTED' });
    return d.command(this.link, req, { timeoutMs: this.settings.timeoutMs });
  }

  private async run(d: DeviceSlot): Promise<void> {
    const t = performance.now();
    const probing = d.state === 'quarantined';
    let readings: Reading[];
    try {
      readings = await d.device.poll(this.link, { retries: probing ? 0 : this.settings.retries, timeoutMs: this.settings.timeoutMs, now: () => this.ctx.clock.now() });
    } catch (err) {
      this.onFailure(d, err);
      return;
    } finally {
      this.count('polls');
    }
    d.state = 'online';
    d.failures = 0;
    d.error = undefined;
    d.lastSeen = this.ctx.clock.now();
    this.ctx.metrics.pollLatency(d.device.id, (performance.now() - t) / 1000);
    if (!readings.length) return;
    this.counters['readings'] = (this.counters['readings'] ?? 0) + readings.length;
    this.scheduler.commits.track(d.id, this.ctx.ingest({ readings }), (err) => {
      this.count('ingest_failures');
      this.ctx.log.warn({ err, device: d.device.id }, 'meter readings not committed');
    });
  }

  private onFailure(d: DeviceSlot, err: unknown): void {
    if (err instanceof BusError && (err.code === 'BUS_DISCONNECTED' || err.code === 'BUS_STOPPED' || err.code === 'BUS_QUEUE_FULL')) {
      // The bus, not the meter: no quarantine.
      if (d.state !== 'quarantined') d.state = 'offline';
      d.error = err.message;
      return;
    }
    const kind = err instanceof BusError ? 'timeout' : 'internal';
    if (kind === 'internal') this.ctx.log.warn({ err, device: d.device.id }, 'meter poll failed');
    d.failures++;
    this.count(kind);
    this.ctx.metrics.linkError(kind, d.device.id);
    const { quarantineMinMs: min, quarantineMaxMs: max } = this.settings;
    d.state = 'quarantined';
    d.error = err instanceof Error ? err.message : String(err);
    d.quarantineUntil = performance.now() + backoffDelay(d.failures - 1, min, max, this.random, 0.2);
  }

  private count(kind: string): void {
    this.counters[kind] = (this.counters[kind] ?? 0) + 1;
  }
}

/** One exchange with the link's retries on timeouts (none while probing a quarantined meter). */
export async function withRetries<T>(retries: number, fn: () => Promise<T>): Promise<T> {
  for (let left = retries; ; left--) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof BusError) || err.code !== 'BUS_TIMEOUT' || left <= 0) throw err;
    }
  }
}
