import type { BoundDevice, Driver, DriverContext, DriverHealth } from '../core/driver.js';
import { encodeWords } from './codecs.js';
import type { CommandRequest, CommandResult } from '../core/commands.js';
import { decodeReadback, modbusCommand, ModbusCommandError, readbackCount, wordsFor } from './commands.js';
import { ModbusDevice } from './device.js';
import { Link, PRIORITY } from './link.js';
import type { Loaded } from '../profiles/schema.js';
import type { ModbusProfile } from './profile-schema.js';
import { discoverSunSpec, type SunSpecMap } from './sunspec.js';
import { ModbusError, type ModbusConnection } from './transport.js';
import { PollScheduler } from '../core/poll-scheduler.js';

export class ModbusDriverError extends Error {
  constructor(
    readonly code: 'MODBUS_CONFIG_INVALID' | 'MODBUS_WRITE_INVALID',
    message: string,
  ) {
    super(message);
  }
}

export interface ModbusDriverArgs {
  connection: ModbusConnection;
  /** Devices with their profiles, as the site resolved them (class and profile already agree). */
  devices: readonly BoundDevice<Loaded<ModbusProfile>>[];
  ctx: DriverContext;
  /** Seeded randomness for backoff jitter (tests); default Math.random. */
  random?: () => number;
}

/**
 * One Modbus link (TCP, RTU serial or RTU over TCP) and every device behind it. Each device is
 * polled on its own absolute schedule (PollScheduler); its reads queue on the link, which sends
 * exactly one at a time. Readings go to the pipeline after each poll, and the device is polled
 * again while they commit (overruns are counted, not queued).
 */
export class ModbusDriver implements Driver {
  readonly connectionId: string;
  readonly link: Link;
  private readonly devices: ModbusDevice[] = [];
  private readonly discoveries = new Map<number, Promise<SunSpecMap | undefined>>();
  private readonly scheduler: PollScheduler<ModbusDevice>;
  private readonly counters: Record<string, number> = { polls: 0, overruns: 0, readings: 0, ingest_failures: 0 };
  private started = false;
  private readonly random: () => number;

  constructor(private readonly args: ModbusDriverArgs) {
    const { connection: c, ctx } = args;
    this.connectionId = c.id;
    this.random = args.random ?? Math.random;
    this.link = new Link(c, ctx.log, this.random);
    for (const b of args.devices) {
      if (!b.config.enabled) continue;
      const profile = b.profile;
      const num = (k: string, d: number) => (typeof b.config.options[k] === 'number' ? (b.config.options[k] as number) : d);
      const limits = {
        max_registers: Math.min(125, num('max_registers', profile.limits.max_registers)),
        max_bits: Math.min(2000, num('max_bits', profile.limits.max_bits)),
        max_gap: num('max_gap', profile.limits.max_gap),
      };
      this.devices.push(
        new ModbusDevice(b.config, profile, limits, {
          link: this.link,
          now: () => ctx.clock.now(),
          random: this.random,
          discover: (unit) => this.discover(unit, profile),
          count: (kind, device) => this.count(kind, device),
          quarantine: { min: c.quarantine_min, max: c.quarantine_max },
          retries: c.retries,
        }),
      );
    }
    this.scheduler = new PollScheduler(this.devices, {
      connected: () => this.link.connected,
      poll: (d) => this.run(d),
      overrun: () => {
        this.counters['overruns'] = (this.counters['overruns'] ?? 0) + 1;
      },
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.link.onState((s) => {
      if (s !== 'connected') for (const d of this.devices) d.connectionLost();
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
      protocol: this.args.connection.protocol,
      state: this.link.state,
      devices: this.devices.map((d) => ({
        id: d.id,
        state: d.state,
        ...(d.error !== undefined ? { error: d.error } : {}),
        ...(d.lastSeen !== undefined ? { lastSeen: d.lastSeen } : {}),
      })),
      counters: { ...this.counters, ...this.link.counters, queued: this.link.queued },
    };
    if (this.link.lastError !== undefined) h.error = this.link.lastError;
    return h;
  }

  explain(deviceId: string): string[] {
    const d = this.devices.find((x) => x.id === deviceId);
    if (!d) return [`${deviceId}: not a device of connection ${this.connectionId}`];
    const c = this.args.connection;
    return [`link ${this.connectionId}: ${c.protocol}, timeout ${c.timeout} ms, gap ${c.gap} ms, retries ${c.retries}`, ...d.explain()];
  }

  /** Write a metric of a device through the same codec table (priority over every read). */
  async write(deviceId: string, metric: string, value: number | boolean): Promise<void> {
    const d = this.devices.find((x) => x.id === deviceId);
    const p = d?.resolvedPoints.find((x) => x.metric === metric);
    if (!d || !p || (p.fn !== 'holding' && p.fn !== 'coil') || p.sf || p.map)
      throw new ModbusDriverError('MODBUS_WRITE_INVALID', `${deviceId}.${metric} is not a writable point`);
    const raw = typeof value === 'boolean' ? value : (value - p.add) / p.scale;
    const words = p.fn === 'coil' ? [raw === true || raw === 1 ? 1 : 0] : encodeWords(p.type, raw, { order: p.order, ...(p.length ? { length: p.length } : {}) });
    await this.link.submit(PRIORITY.write, (t) => t.write(d.unit, p.fn as 'holding' | 'coil', p.address, words));
  }

  /**
   * A command from the gateway: written before any queued read (priority), then read back from
   * where the device shows its state. The control service compares the two.
   */
  async command(req: CommandRequest): Promise<CommandResult> {
    const d = this.devices.find((x) => x.id === req.device);
    if (!d) throw new ModbusCommandError('MODBUS_COMMAND_UNKNOWN', `${req.device} is not a device of connection ${this.connectionId}`);
    const { def, write } = modbusCommand(d.profile, d.config.class, req.command);
    const words = wordsFor(write, req.value);
    await this.link.submit(PRIORITY.write, (t) => t.write(d.unit, write.function, write.address, words));
    const rb = write.readback ?? { function: write.function, address: write.address };
    const got = await this.link.submit(PRIORITY.write, (t) => t.read(d.unit, rb.function, rb.address, readbackCount(write)));
    return { readBack: decodeReadback(write, def, got) };
  }

  private count(kind: string, device: string): void {
    this.counters[kind] = (this.counters[kind] ?? 0) + 1;
    this.args.ctx.metrics.linkError(kind, device);
  }

  private discover(unit: number, profile: ModbusProfile): Promise<SunSpecMap | undefined> {
    let p = this.discoveries.get(unit);
    if (!p) {
      p = discoverSunSpec((address, count) => this.link.submit(PRIORITY.fast, (t) => t.read(unit, 'holding', address, count)), profile.sunspec?.bases ?? [40000, 0, 50000]);
      // A failed walk is forgotten so that the next poll tries again.
      p.catch(() => this.discoveries.delete(unit));
      this.discoveries.set(unit, p);
    }
    return p;
  }

  /** One poll: the device is free for its next poll once its registers are read (PendingCommits). */
  private async run(d: ModbusDevice): Promise<void> {
    const t = performance.now();
    const readings = await d.poll();
    this.counters['polls'] = (this.counters['polls'] ?? 0) + 1;
    if (d.state === 'online') this.args.ctx.metrics.pollLatency(d.id, (performance.now() - t) / 1000);
    this.args.ctx.metrics.messages(d.planned.length);
    if (!readings.length) return;
    this.counters['readings'] = (this.counters['readings'] ?? 0) + readings.length;
    this.scheduler.commits.track(d.id, this.args.ctx.ingest({ readings }), (err) => {
      this.counters['ingest_failures'] = (this.counters['ingest_failures'] ?? 0) + 1;
      this.args.ctx.log.warn({ err, device: d.id }, 'modbus readings not committed');
    });
  }
}

export { ModbusError };
