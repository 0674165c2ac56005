import { performance } from 'node:perf_hooks';
import type { SinkConfig } from '../config/schema.js';
import { redactSecrets } from '../model/redact.js';
import type { Cursor, Store } from '../store/store.js';
import { backoffDelay, backoffPolicy, type BackoffPolicy } from './backoff.js';
import { Batches, type Batch, type SinkParts } from './batches.js';
import { transportError } from './errors.js';
import { Sleeper } from './sleeper.js';

export type SinkState = 'created' | 'ok' | 'backoff' | 'waiting' | 'stopped';

export interface SinkHealth {
  id: string;
  type: SinkConfig['type'];
  state: SinkState;
  /** Records (samples + events) in the store not yet acknowledged. */
  backlog: number;
  /** Seconds since the oldest unsent record's timestamp; 0 when caught up. */
  backlogAge: number;
  lastAck: string | null;
  lastError: string | null;
  deadLetters: number;
}

export interface SinkRunnerOptions extends SinkParts {
  random?: () => number;
}

/** The cursor a sink without one starts from (config `start_from`). */
/** A sink's name in the store's cursors table (the one place it is spelled). */
export const SINK_CONSUMER_PREFIX = 'sink:';
export const sinkConsumer = (id: string): string => `${SINK_CONSUMER_PREFIX}${id}`;

export function initialCursor(store: Store, startFrom: string): Cursor {
  if (startFrom === 'earliest') return { samples: 0, events: 0 };
  if (startFrom === 'now') return store.maxSeq();
  return store.firstSeqAtOrAfter(Date.parse(startFrom));
}

/**
 * One sink: reads the store's log after its own durable cursor, in batches by size and age,
 * and moves the cursor only after the remote end acknowledged the batch (at-least-once; the
 * writes are idempotent, so a resend after a crash lands once). Network trouble backs off with
 * jitter and keeps the batch; points the server refuses are isolated by bisection and
 * dead-lettered, so they never block the sink.
 */
export class SinkRunner {
  readonly id: string;
  readonly consumer: string;
  private state: SinkState = 'created';
  private cursor: Cursor = { samples: 0, events: 0 };
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** Set while flush() runs: a part batch leaves at once instead of waiting for flush_interval. */
  private flushing = false;
  private readonly sleeper = new Sleeper();
  /** One per request on the wire (a request's listener goes with it): stop() aborts them all. */
  private readonly aborts = new Set<AbortController>();
  private observer: NodeJS.Timeout | undefined;
  private failures = 0;
  private pendingSince: number | undefined;
  private lastAck: number | undefined;
  private lastError: string | undefined;
  private backlog = 0;
  private backlogAgeMs = 0;
  private readonly policy: BackoffPolicy;
  private readonly pollMs: number;
  private readonly batches: Batches;

  constructor(private readonly o: SinkRunnerOptions) {
    this.id = o.id;
    this.consumer = sinkConsumer(o.id);
    this.policy = backoffPolicy(o.config.backoff_max);
    this.pollMs = Math.max(10, Math.min(250, Math.floor(o.config.flush_interval / 4)));
    this.batches = new Batches({ ...o, stopping: () => this.stopping });
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.stopping = false;
    await this.o.writer.start?.();
    const saved = this.o.store.getCursor(this.consumer);
    this.cursor = saved ?? initialCursor(this.o.store, this.o.config.start_from);
    // Persist at once: the store's retention keeps what this cursor has not passed.
    if (!saved) this.o.store.setCursor(this.consumer, this.cursor);
    // A sink whose link is still connecting says so from the start: reported `ok` until its first
    // step found the client unconnected, a fresh sink read ok, then waiting, then ok.
    this.state = this.linkUp() ? 'ok' : 'waiting';
    this.observe();
    this.observer = setInterval(() => this.observe(), 1000);
    this.observer.unref();
    this.loop = this.run();
  }

  /** Idempotent: aborts a request in flight (its batch is resent next time), clears every timer. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const a of this.aborts) a.abort();
    this.sleeper.wake();
    if (this.observer) clearInterval(this.observer);
    this.observer = undefined;
    const loop = this.loop;
    this.loop = undefined;
    await loop;
    await this.o.writer.stop?.();
    this.state = 'stopped';
  }

  /**
   * Send everything committed up to now without waiting for full batches (shutdown). Resolves
   * true once it is acknowledged, false as soon as delivery fails (the server is away: no point
   * holding the shutdown for it, the backlog stays in the store) or at the deadline.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    if (!this.loop || this.stopping) return false;
    const target = this.o.store.maxSeq();
    const failuresBefore = this.failures;
    const end = performance.now() + timeoutMs;
    this.flushing = true;
    this.sleeper.wake();
    try {
      for (;;) {
        if (this.cursor.samples >= target.samples && this.cursor.events >= target.events) return true;
        if (this.failures > failuresBefore || this.state === 'waiting' || this.stopping || performance.now() >= end) return false;
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      this.flushing = false;
    }
  }

  health(): SinkHealth {
    return {
      id: this.id,
      type: this.o.config.type,
      state: this.state,
      backlog: this.backlog,
      backlogAge: Math.round(this.backlogAgeMs / 1000),
      lastAck: this.lastAck === undefined ? null : new Date(this.lastAck).toISOString(),
      lastError: this.lastError ?? null,
      deadLetters: this.o.deadLetters.count(this.id),
    };
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      try {
        await this.step();
      } catch (err) {
        if (this.stopping) break;
        await this.failed(err);
      }
    }
  }

  /** The writer's link is up (a writer without a link of its own, HTTP, always is). */
  private linkUp(): boolean {
    return this.o.writer.ready?.() ?? true;
  }

  private async step(): Promise<void> {
    const { store, config } = this.o;
    const max = store.maxSeq();
    const pending = max.samples - this.cursor.samples + (max.events - this.cursor.events);
    this.setBacklog(max);
    if (pending <= 0) {
      this.pendingSince = undefined;
      if (this.state !== 'backoff') this.state = this.linkUp() ? 'ok' : 'waiting';
      return this.sleep(this.pollMs);
    }
    if (!this.linkUp()) {
      this.state = 'waiting';
      return this.sleep(this.pollMs);
    }
    if (pending < config.batch_size && !this.flushing) {
      this.pendingSince ??= performance.now();
      const waited = performance.now() - this.pendingSince;
      if (waited < config.flush_interval) return this.sleep(Math.min(this.pollMs, config.flush_interval - waited));
    }
    // A backlog goes out in full batches, up to the writer's in-flight limit on the wire at once
    // (a sliding window: the next batch leaves as the oldest is acknowledged); the cursor moves
    // past a batch only when it and every batch before it were acknowledged.
    const window: { batch: Batch; sending: Promise<void>; abort: AbortController }[] = [];
    try {
      const limit = Math.max(1, this.o.writer.inFlight ?? 1);
      let from = this.cursor;
      let more = true;
      // A batch already refused: nothing more is sent until the backoff resends from it.
      let refused = false;
      for (;;) {
        while (more && !refused && window.length < limit && !this.stopping) {
          const batch = this.batches.read(from);
          if (batch.samples === 0 && batch.events === 0) {
            more = false;
            break;
          }
          for (const u of batch.unencodable) this.batches.deadLetter(u.item, JSON.stringify(u.item.record), u.reason);
          const abort = new AbortController();
          this.aborts.add(abort);
          const sending = this.batches.send(batch, abort.signal);
          sending.catch(() => void (refused = true)); // awaited below, in order; not an unhandled rejection meanwhile
          window.push({ batch, sending, abort });
          from = batch.to;
          // A part batch is the last; after a full one, let its request leave before reading the next.
          if (batch.samples + batch.events < config.batch_size) more = false;
          else if (window.length < limit) await new Promise((r) => setImmediate(r));
        }
        const oldest = window.shift();
        if (!oldest) break;
        try {
          await oldest.sending;
        } finally {
          this.aborts.delete(oldest.abort);
        }
        this.advance(oldest.batch.to, oldest.batch.samples, oldest.batch.events);
      }
      // Only gaps left (rows replaced or expired): nothing to send up to max.
      if (from === this.cursor && !this.stopping) this.advance(max, 0, 0);
    } catch (err) {
      // The batches after the failed one are not waited for by the backoff, but not left dangling either.
      for (const w of window) w.abort.abort();
      await Promise.allSettled(window.map((w) => w.sending));
      for (const w of window) this.aborts.delete(w.abort);
      throw err;
    }
  }

  private advance(to: Cursor, samples: number, events: number): void {
    this.o.store.setCursor(this.consumer, to);
    this.cursor = { ...to };
    this.pendingSince = undefined;
    this.lastAck = this.o.clock.now();
    if (samples) this.o.metrics.sent.inc({ sink: this.id, log: 'samples' }, samples);
    if (events) this.o.metrics.sent.inc({ sink: this.id, log: 'events' }, events);
    if (this.failures > 0) this.o.log.info({ sink: this.id, after: this.failures }, 'sink delivering again');
    this.failures = 0;
    this.state = 'ok';
  }

  private async failed(err: unknown): Promise<void> {
    const e = transportError(err, this.o.config.timeout);
    if (e.code === 'SINK_ABORTED') return;
    this.failures++;
    this.lastError = redactSecrets(`${e.code}: ${e.message}`);
    this.state = 'backoff';
    this.o.metrics.errors.inc({ sink: this.id, code: e.code });
    const delay = backoffDelay(this.failures, this.policy, this.o.random, e.retryAfterMs);
    // First failure and then every tenth: a long outage must not flood the log.
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.o.log.warn({ sink: this.id, code: e.code, status: e.status, failures: this.failures, retryInMs: delay }, `sink cannot deliver: ${redactSecrets(e.message)}`);
    }
    this.observe();
    await this.sleep(delay);
  }

  private setBacklog(max: Cursor): void {
    const s = Math.max(0, max.samples - this.cursor.samples);
    const e = Math.max(0, max.events - this.cursor.events);
    this.backlog = s + e;
    this.o.metrics.backlog.set({ sink: this.id, log: 'samples' }, s);
    this.o.metrics.backlog.set({ sink: this.id, log: 'events' }, e);
    if (this.backlog === 0 && this.backlogAgeMs !== 0) {
      this.backlogAgeMs = 0;
      this.o.metrics.backlogAge.set({ sink: this.id }, 0);
    }
  }

  /** Refresh backlog size and age (also while backing off, so /metrics shows an outage growing). */
  private observe(): void {
    const { store } = this.o;
    if (!store.isOpen) return;
    this.setBacklog(store.maxSeq());
    let oldest = Infinity;
    if (this.backlog > 0) {
      const s = store.samplesAfter(this.cursor.samples, 1)[0];
      const e = store.eventsAfter(this.cursor.events, 1)[0];
      oldest = Math.min(s?.ts ?? Infinity, e?.ts ?? Infinity);
    }
    this.backlogAgeMs = Number.isFinite(oldest) ? Math.max(0, this.o.clock.now() - oldest) : 0;
    this.o.metrics.backlogAge.set({ sink: this.id }, this.backlogAgeMs / 1000);
  }

  private sleep(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms);
  }

  /** Wake a sleeping sink (new data committed): a full batch goes out without waiting for the poll. */
  poke(): void {
    if (this.state !== 'backoff') this.sleeper.wake();
  }
}
