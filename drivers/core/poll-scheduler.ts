import { PendingCommits } from './commits.js';
import type { DeviceState } from './driver.js';
import { nextDue } from './schedule.js';

/** What the scheduler reads of a polled device; its state and quarantine are the driver's to set. */
export interface PolledDevice {
  readonly id: string;
  /** Poll period (ms). */
  readonly period: number;
  state: DeviceState;
  /** While `state` is quarantined: when the device may be probed again (performance.now() ms). */
  quarantineUntil: number;
}

export interface PollSchedulerOptions<T extends PolledDevice> {
  /** Whether the link can carry a poll now. A device due while it cannot is offline (unless quarantined). */
  connected(): boolean;
  /** One poll; resolves once the device is free for its next (read, not necessarily committed). */
  poll(device: T): Promise<void>;
  /** A poll skipped: the last one still runs, or the store still holds two polls' readings. */
  overrun(device: T): void;
}

/** How long after start the devices' first polls are spread over (a fraction of each period). */
const SPREAD = 0.9;

/**
 * The schedule shared by the polling drivers (Modbus, the meter buses): each device on its own
 * absolute schedule (the next poll is one period after the last was due, so drift never
 * accumulates), first polls spread over the period, one poll of a device at a time, a device in
 * quarantine left alone until its probe, a device due while the link is down marked offline. A
 * device is polled again while its last readings commit (`commits`, which its poll feeds), and
 * skipped, counted as an overrun, while two polls' readings are still in the store's hands.
 */
export class PollScheduler<T extends PolledDevice> {
  readonly commits = new PendingCommits();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Set<string>();
  private started = false;

  constructor(
    private readonly devices: readonly T[],
    private readonly o: PollSchedulerOptions<T>,
  ) {}

  start(): void {
    if (this.started) return;
    this.started = true;
    const t0 = performance.now();
    this.devices.forEach((d, i) => this.schedule(d, t0 + (SPREAD * d.period * i) / Math.max(1, this.devices.length)));
  }

  stop(): void {
    this.started = false;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private schedule(d: T, at: number): void {
    if (!this.started) return;
    this.timers.set(d.id, setTimeout(() => this.due(d, at), Math.max(0, at - performance.now())));
  }

  private due(d: T, at: number): void {
    const now = performance.now();
    this.schedule(d, nextDue(at, d.period, now));
    if (this.running.has(d.id) || this.commits.full(d.id)) {
      this.o.overrun(d);
      return;
    }
    if (d.state === 'quarantined' && now < d.quarantineUntil) return;
    if (!this.o.connected()) {
      if (d.state !== 'quarantined') d.state = 'offline';
      return;
    }
    this.running.add(d.id);
    void this.o.poll(d).finally(() => this.running.delete(d.id));
  }
}
