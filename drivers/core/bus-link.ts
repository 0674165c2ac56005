import net from 'node:net';
import type { Logger } from 'pino';
import type { LinkState } from './driver.js';
import type { ScanResult } from './meter-frame.js';
import { backoffDelay } from './schedule.js';
import { LinkStateHolder } from './link-state.js';

/**
 * One RS-485 bus of meters that answer one request at a time: a serial port, or a serial-device
 * server in transparent TCP mode (the bus's bytes unchanged on one socket). One exchange in flight,
 * a gap between exchanges, a timeout per exchange, reconnects with backoff and jitter. Frames are
 * found by the protocol's scanner; what is not the awaited answer (an echo, another meter, a broken
 * frame) is counted by reason and skipped, never taken for the answer.
 */
export type BusEndpoint =
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'serial'; path: string; baud: number; parity: 'none' | 'even' | 'odd'; dataBits: 7 | 8; stopBits: 1 | 2 };

export interface BusOptions {
  /** Told of every frame that was not the awaited answer, by reason (the driver counts them in /metrics). */
  onBadFrame?: (reason: 'checksum' | 'framing' | 'garbage' | 'mismatch' | 'unsolicited') => void;
  /** Pause between the end of one exchange and the next request (ms). */
  gapMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  connectTimeoutMs: number;
}

export type BusErrorCode = 'BUS_TIMEOUT' | 'BUS_DISCONNECTED' | 'BUS_STOPPED' | 'BUS_QUEUE_FULL';

export class BusError extends Error {
  constructor(
    readonly code: BusErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** What an exchange is waiting for: the protocol's scanner and a test of "is this my answer". */
export interface Awaited<T> {
  scan(buf: Uint8Array, from?: number): ScanResult;
  /** The answer, or a reason it is not (then the link keeps listening until the timeout). */
  match(frame: Buffer): { ok: true; value: T } | { ok: false; why: string };
}

export const BUS_COUNTERS = ['requests', 'answers', 'timeouts', 'checksum', 'framing', 'garbage', 'mismatch', 'unsolicited', 'reconnects', 'disconnects', 'queue_full'] as const;
export type BusCounter = (typeof BUS_COUNTERS)[number];

interface Job {
  request: Buffer;
  timeoutMs: number;
  awaited: Awaited<unknown>;
  resolve(v: unknown): void;
  reject(e: unknown): void;
}

/** Bytes kept while waiting for an answer; beyond this the oldest are garbage (bounded memory). */
const RX_MAX = 4096;
const QUEUE_MAX = 10_000;

interface Port {
  write(b: Buffer): void;
  close(): void;
}

export class BusLink extends LinkStateHolder {
  lastError: string | undefined;
  readonly counters: Record<BusCounter, number> = Object.fromEntries(BUS_COUNTERS.map((c) => [c, 0])) as Record<BusCounter, number>;
  private port: Port | undefined;
  private rx: Buffer = Buffer.alloc(0);
  private readonly queue: Job[] = [];
  private current: { job: Job; timer: NodeJS.Timeout } | undefined;
  private lastEnd = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private gapTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly endpoint: BusEndpoint,
    private readonly opts: BusOptions,
    private readonly log: Logger,
    private readonly random: () => number = Math.random,
  ) {
    super();
  }

  describe(): string {
    return describeEndpoint(this.endpoint);
  }

  /** Starts connecting; resolves after the first attempt whatever its outcome (retries continue). */
  async start(): Promise<void> {
    if (this.state !== 'stopped') return;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.setState('stopped');
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.gapTimer);
    this.gapTimer = undefined;
    this.failAll(new BusError('BUS_STOPPED', 'bus stopped'));
    this.closePort();
  }

  /** One request and its answer. Never throws synchronously; rejects with a BusError. */
  exchange<T>(request: Buffer, awaited: Awaited<T>, timeoutMs: number): Promise<T> {
    if (this.state !== 'connected') return Promise.reject(new BusError('BUS_DISCONNECTED', `${this.describe()} is ${this.state}`));
    if (this.queue.length >= QUEUE_MAX) {
      this.counters.queue_full++;
      return Promise.reject(new BusError('BUS_QUEUE_FULL', 'bus queue full'));
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ request, timeoutMs, awaited, resolve: resolve as (v: unknown) => void, reject });
      this.pump();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private async connect(): Promise<void> {
    this.setState('connecting');
    try {
      const port = await this.open();
      if ((this.state as LinkState) === 'stopped') {
        port.close();
        return;
      }
      this.port = port;
      this.attempt = 0;
      this.lastError = undefined;
      this.setState('connected');
      this.log.info({ bus: this.describe() }, 'meter bus connected');
      this.pump();
    } catch (err) {
      this.lastError = (err as Error).message;
      this.scheduleReconnect();
    }
  }

  private open(): Promise<Port> {
    const ep = this.endpoint;
    return ep.kind === 'tcp' ? this.openTcp(ep) : this.openSerial(ep);
  }

  private openTcp(ep: Extract<BusEndpoint, { kind: 'tcp' }>): Promise<Port> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: ep.host, port: ep.port });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new BusError('BUS_TIMEOUT', `connect to ${this.describe()} timed out`));
      }, this.opts.connectTimeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.on('data', (d: Buffer) => this.onData(d));
        socket.on('close', () => this.onClosed(port));
        resolve(port);
      });
      socket.on('error', (e) => {
        clearTimeout(timer);
        this.lastError = e.message;
        reject(new BusError('BUS_DISCONNECTED', `cannot connect to ${this.describe()}: ${e.message}`));
      });
      const port: Port = { write: (b) => socket.write(b), close: () => socket.destroy() };
    });
  }

  private async openSerial(ep: Extract<BusEndpoint, { kind: 'serial' }>): Promise<Port> {
    // Loaded only for a serial bus: most sites reach their meters through a serial-device server.
    const { SerialPort } = await import('serialport');
    return new Promise((resolve, reject) => {
      const sp = new SerialPort({ path: ep.path, baudRate: ep.baud, parity: ep.parity, dataBits: ep.dataBits, stopBits: ep.stopBits, autoOpen: false });
      const port: Port = { write: (b) => void sp.write(b), close: () => (sp.isOpen ? sp.close(() => undefined) : undefined) };
      sp.on('error', (e) => {
        this.lastError = e.message;
      });
      sp.open((err) => {
        if (err) {
          reject(new BusError('BUS_DISCONNECTED', `cannot open ${this.describe()}: ${err.message}`));
          return;
        }
        sp.on('data', (d: Buffer) => this.onData(d));
        sp.on('close', () => this.onClosed(port));
        resolve(port);
      });
    });
  }

  private closePort(): void {
    const p = this.port;
    this.port = undefined;
    p?.close();
  }

  private scheduleReconnect(): void {
    if (this.state === 'stopped') return;
    this.setState('backoff');
    const delay = backoffDelay(this.attempt, this.opts.reconnectMinMs, this.opts.reconnectMaxMs, this.random);
    this.attempt++;
    this.counters.reconnects++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => void this.connect(), delay);
  }

  private onClosed(port: Port): void {
    if (this.state === 'stopped' || this.port !== port) return;
    this.port = undefined;
    this.counters.disconnects++;
    this.lastError = 'connection closed';
    this.log.warn({ bus: this.describe() }, 'meter bus lost; reconnecting');
    this.failAll(new BusError('BUS_DISCONNECTED', 'connection lost'));
    this.scheduleReconnect();
  }

  private failAll(err: BusError): void {
    if (this.current) {
      clearTimeout(this.current.timer);
      this.current.job.reject(err);
      this.current = undefined;
    }
    for (const j of this.queue.splice(0)) j.reject(err);
  }

  private pump(): void {
    if (this.current || this.gapTimer || this.state !== 'connected' || !this.port || this.queue.length === 0) return;
    const wait = this.lastEnd + this.opts.gapMs - performance.now();
    if (wait > 0) {
      this.gapTimer = setTimeout(() => {
        this.gapTimer = undefined;
        this.pump();
      }, wait);
      return;
    }
    const job = this.queue.shift();
    if (!job) return;
    // Whatever arrived between exchanges belongs to no one (a late answer to a timed-out request).
    if (this.rx.length > 0) this.bad('unsolicited');
    this.rx = Buffer.alloc(0);
    const timer = setTimeout(() => this.finish(new BusError('BUS_TIMEOUT', `no answer within ${job.timeoutMs} ms`)), job.timeoutMs);
    this.current = { job, timer };
    this.counters.requests++;
    this.port.write(job.request);
  }

  private finish(outcome: BusError | { value: unknown }): void {
    const cur = this.current;
    if (!cur) return;
    clearTimeout(cur.timer);
    this.current = undefined;
    this.lastEnd = performance.now();
    if (outcome instanceof BusError) {
      if (outcome.code === 'BUS_TIMEOUT') this.counters.timeouts++;
      cur.job.reject(outcome);
    } else {
      this.counters.answers++;
      cur.job.resolve(outcome.value);
    }
    this.pump();
  }

  private bad(reason: 'checksum' | 'framing' | 'garbage' | 'mismatch' | 'unsolicited'): void {
    this.counters[reason]++;
    this.opts.onBadFrame?.(reason);
  }

  private onData(d: Buffer): void {
    if (!this.current) {
      this.bad('unsolicited');
      return;
    }
    this.rx = this.rx.length ? Buffer.concat([this.rx, d]) : d;
    if (this.rx.length > RX_MAX) {
      this.bad('garbage');
      this.rx = this.rx.subarray(this.rx.length - RX_MAX);
    }
    const { awaited } = this.current.job;
    let from = 0;
    for (;;) {
      const r = awaited.scan(this.rx, from);
      if (r.skipped > 0) this.bad('garbage');
      if (r.kind === 'incomplete') {
        this.rx = this.rx.subarray(r.start);
        return;
      }
      if (r.kind === 'error') {
        this.bad(r.reason);
        from = r.end;
        continue;
      }
      const m = awaited.match(r.frame);
      if (m.ok) {
        this.rx = Buffer.alloc(0);
        this.finish({ value: m.value });
        return;
      }
      this.bad('mismatch');
      this.log.debug({ bus: this.describe(), why: m.why }, 'frame on the bus is not the awaited answer');
      from = r.end;
    }
  }
}

export function describeEndpoint(ep: BusEndpoint): string {
  return ep.kind === 'tcp' ? `tcp://${ep.host}:${ep.port}` : `${ep.path}@${ep.baud}`;
}
