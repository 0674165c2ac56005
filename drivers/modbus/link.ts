import type { Logger } from 'pino';
import type { LinkState } from '../core/driver.js';
import { describe, ModbusError, Transport, type ModbusConnection } from './transport.js';
import { backoffDelay } from '../core/schedule.js';
import { LinkStateHolder } from '../core/link-state.js';

/** Writes first, then fast telemetry, then slow counters. */
export const PRIORITY = { write: 0, fast: 1, slow: 2 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

interface Job {
  prio: Priority;
  seq: number;
  run: (t: Transport) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Jobs waiting on one link; beyond this a submit fails at once (bounded memory). */
const QUEUE_MAX = 10_000;

/**
 * One physical link: one connection (shared by every unit id behind it), one queue, exactly one
 * request in flight, a pause of `gap` between exchanges, and reconnects with exponential backoff
 * and jitter. Every error is caught here and handed back to the caller of `submit`; the link
 * itself never stops polling because of one (LESSONS: polling that freezes after a disconnect).
 */
export class Link extends LinkStateHolder {
  lastError: string | undefined;
  readonly counters = { requests: 0, reconnects: 0, disconnects: 0, queue_full: 0 };
  private readonly transport: Transport;
  private readonly queue: Job[] = [];
  private seq = 0;
  private busy = false;
  private lastEnd = 0;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly conn: ModbusConnection,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {
    super();
    this.transport = new Transport(conn, () => this.onClosed());
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Starts connecting; resolves after the first attempt whatever its outcome (retries continue). */
  async start(): Promise<void> {
    if (this.state !== 'stopped') return;
    this.setState('connecting');
    await this.connect();
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    clearTimeout(this.timer);
    clearTimeout(this.pumpTimer);
    this.timer = undefined;
    this.pumpTimer = undefined;
    this.failQueued(new ModbusError('MODBUS_STOPPED', 'link stopped'));
    await this.transport.close();
  }

  /** Queue one exchange. Rejects with a ModbusError (never throws synchronously). */
  submit<T>(prio: Priority, run: (t: Transport) => Promise<T>): Promise<T> {
    if (this.state !== 'connected') return Promise.reject(new ModbusError('MODBUS_DISCONNECTED', `${describe(this.conn)} is ${this.state}`));
    if (this.queue.length >= QUEUE_MAX) {
      this.counters.queue_full++;
      return Promise.reject(new ModbusError('MODBUS_DISCONNECTED', 'link queue full'));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ prio, seq: this.seq++, run, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private async connect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('connecting');
    try {
      await this.transport.open();
      // stop() may have run while we were connecting.
      if ((this.state as LinkState) === 'stopped') {
        await this.transport.close();
        return;
      }
      this.attempt = 0;
      this.lastError = undefined;
      this.setState('connected');
      this.log.info({ link: describe(this.conn) }, 'modbus link connected');
      this.pump();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.setState('backoff');
    const delay = backoffDelay(this.attempt, this.conn.reconnect_min, this.conn.reconnect_max, this.random);
    this.attempt++;
    this.counters.reconnects++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private onClosed(): void {
    if (this.state === 'stopped') return;
    this.counters.disconnects++;
    this.lastError = 'connection closed by peer';
    this.log.warn({ link: describe(this.conn) }, 'modbus link lost; reconnecting');
    this.failQueued(new ModbusError('MODBUS_DISCONNECTED', 'connection lost'));
    this.scheduleReconnect();
  }

  private failQueued(err: ModbusError): void {
    for (const j of this.queue.splice(0)) j.reject(err);
  }

  private pump(): void {
    if (this.busy || this.pumpTimer || this.state !== 'connected' || this.queue.length === 0) return;
    const wait = this.lastEnd + this.conn.gap - performance.now();
    if (wait > 0) {
      // The inter-frame gap: the next request waits; jobs queued meanwhile still compete by priority.
      this.pumpTimer = setTimeout(() => {
        this.pumpTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    let best = 0;
    for (let i = 1; i < this.queue.length; i++) {
      const a = this.queue[i];
      const b = this.queue[best];
      if (a && b && (a.prio < b.prio || (a.prio === b.prio && a.seq < b.seq))) best = i;
    }
    const job = this.queue.splice(best, 1)[0];
    if (!job) return;
    this.busy = true;
    this.counters.requests++;
    job
      .run(this.transport)
      .then(job.resolve, (err: unknown) => {
        const e = err instanceof ModbusError ? err : new ModbusError('MODBUS_BAD_FRAME', (err as Error)?.message ?? String(err));
        // A socket that died under a request: treat as a disconnect even before 'close' arrives.
        if (e.code === 'MODBUS_DISCONNECTED' && !this.transport.isOpen && this.state === 'connected') this.onClosed();
        job.reject(e);
      })
      .finally(() => {
        this.busy = false;
        this.lastEnd = performance.now();
        this.pump();
      });
  }
}
