import type { Logger } from 'pino';
import type { SinkConfig } from '../config/schema.js';
import type { KpiOutbox, OutboxRow } from '../kpi/outbox.js';
import type { Clock } from '../model/clock.js';
import { redactSecrets } from '../model/redact.js';
import { backoffDelay, backoffPolicy } from './backoff.js';
import { transportError } from './errors.js';
import { kpiLine, kpiMessage } from './kpi-encode.js';
import type { SinkMetrics } from './metrics.js';
import { sinkConsumer } from './runner.js';
import { Sleeper } from './sleeper.js';
import type { SinkWriter } from './types.js';

export interface KpiExportOptions {
  id: string;
  config: SinkConfig;
  outbox: KpiOutbox;
  /** The sink's own writer (its connection, its acknowledgements), already started. */
  writer: SinkWriter<unknown>;
  /** `topic_prefix` for a site (mqtt sinks). */
  prefix?: (site: string) => string;
  clock: Clock;
  log: Logger;
  metrics: SinkMetrics;
  random?: () => number;
}

/**
 * One sink's share of the KPI outbox: reads after its durable cursor, encodes for the sink's
 * protocol, sends through the sink's own writer and moves the cursor once the remote end has
 * acknowledged (at-least-once; every record keeps its timestamp, so a resend lands on the
 * same point). Down links back off with jitter; the outbox keeps what is not sent.
 */
export class KpiExport {
  private loop: Promise<void> | undefined;
  private stopping = false;
  private readonly sleeper = new Sleeper();
  private abort: AbortController | undefined;
  private failures = 0;
  private cursor = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: KpiExportOptions) {}

  start(): void {
    if (this.loop) return;
    this.stopping = false;
    const consumer = sinkConsumer(this.o.id);
    const saved = this.o.outbox.cursor(consumer);
    this.cursor = saved ?? (this.o.config.start_from === 'now' ? this.o.outbox.maxSeq() : 0);
    if (saved === undefined) this.o.outbox.setCursor(consumer, this.cursor);
    // New records wake a waiting sink, never one backing off from a failure.
    this.unsubscribe = this.o.outbox.onAppend(() => {
      if (this.failures === 0) this.sleeper.wake();
    });
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort?.abort();
    this.sleeper.wake();
    this.unsubscribe?.();
    const loop = this.loop;
    this.loop = undefined;
    await loop;
  }

  /** Records not yet acknowledged. */
  backlog(): number {
    return Math.max(0, this.o.outbox.maxSeq() - this.cursor);
  }

  /** Send what is there now; true once acknowledged, false on failure or at the deadline. */
  async flush(timeoutMs: number): Promise<boolean> {
    const target = this.o.outbox.maxSeq();
    const end = performance.now() + timeoutMs;
    const before = this.failures;
    this.sleeper.wake();
    while (this.cursor < target) {
      if (!this.loop || this.failures > before || performance.now() >= end) return false;
      await new Promise((r) => setTimeout(r, 5));
    }
    return true;
  }

  private async run(): Promise<void> {
    const poll = Math.max(10, Math.min(1000, this.o.config.flush_interval));
    while (!this.stopping) {
      this.o.metrics.backlog.set({ sink: this.o.id, log: 'kpis' }, this.backlog());
      const rows = this.o.outbox.after(this.cursor, this.o.config.batch_size);
      if (rows.length === 0 || (this.o.writer.ready && !this.o.writer.ready())) {
        await this.sleep(poll);
        continue;
      }
      try {
        await this.send(rows);
        const last = rows[rows.length - 1] as OutboxRow;
        this.o.outbox.setCursor(sinkConsumer(this.o.id), last.seq);
        this.cursor = last.seq;
        this.o.metrics.sent.inc({ sink: this.o.id, log: 'kpis' }, rows.length);
        if (this.failures) this.o.log.info({ sink: this.o.id, after: this.failures }, 'KPI export delivering again');
        this.failures = 0;
      } catch (err) {
        if (this.stopping) break;
        const e = transportError(err, this.o.config.timeout);
        this.failures++;
        this.o.metrics.errors.inc({ sink: this.o.id, code: e.code });
        const delay = backoffDelay(this.failures, backoffPolicy(this.o.config.backoff_max), this.o.random, e.retryAfterMs);
        if (this.failures === 1 || this.failures % 10 === 0) this.o.log.warn({ sink: this.o.id, code: e.code, failures: this.failures, retryInMs: delay }, `KPI export cannot deliver: ${redactSecrets(e.message)}`);
        await this.sleep(delay);
      }
    }
  }

  private async send(rows: OutboxRow[]): Promise<void> {
    const encoded: unknown[] = [];
    for (const r of rows) {
      try {
        encoded.push(this.o.config.type === 'mqtt' ? kpiMessage(this.o.prefix?.(r.record.site) ?? `fc/${r.record.site}`, r.record) : kpiLine(r.record));
      } catch (err) {
        // A record that cannot be written (a NaN timestamp) never blocks the ones after it.
        this.o.log.warn({ sink: this.o.id, seq: r.seq, err: (err as Error).message }, 'KPI record not encodable, skipped');
      }
    }
    await this.deliver(encoded);
  }

  /** A batch the server refuses points of (HTTP 400) is sent one by one; a refused one is logged and skipped. */
  private async deliver(encoded: unknown[]): Promise<void> {
    const abort = new AbortController();
    this.abort = abort;
    try {
      const refused = await this.o.writer.send(encoded, abort.signal);
      for (const r of refused) this.refused(encoded[r.index], r.reason, r.status);
    } catch (err) {
      const e = transportError(err, this.o.config.timeout);
      if (!e.rejectsPoints) throw err;
      if (encoded.length === 1) return this.refused(encoded[0], e.message, e.status);
      for (const one of encoded) await this.deliver([one]);
    } finally {
      this.abort = undefined;
    }
  }

  private refused(encoded: unknown, reason: string, status?: number): void {
    this.o.metrics.deadLetters.inc({ sink: this.o.id });
    this.o.log.warn({ sink: this.o.id, status, record: this.o.writer.text(encoded) }, `the remote end refused a KPI record: ${redactSecrets(reason)}`);
  }

  private sleep(ms: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.sleeper.sleep(ms);
  }
}
