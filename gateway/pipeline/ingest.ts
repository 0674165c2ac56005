import type { Logger } from 'pino';
import { PairMap } from '../model/pair-map.js';
import type { GatewayEvent, IngestBatch, Rejection, Sample } from '../model/types.js';
import type { GatewayMetrics } from '../runtime/metrics.js';
import { RateLimitedLog } from '../runtime/log.js';
import { normalise, type NormaliseDeps } from './normalise.js';

/**
 * The one thing the pipeline needs of the store: commit a batch atomically (it throws if it
 * cannot), saying how many rows were copies of stored ones (kept once, by identity).
 */
export interface CommitTarget {
  write(samples: readonly Sample[], events?: readonly GatewayEvent[]): { samples: number; events: number; copies?: ReadonlySet<Sample | GatewayEvent> } | void;
}

export type CommitListener = (samples: readonly Sample[], events: readonly GatewayEvent[]) => void;

interface Pending {
  batch: IngestBatch;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class IngestError extends Error {
  constructor(
    readonly code: 'STORE_FULL' | 'STORE_WRITE_FAILED' | 'INGEST_CLOSED' | 'NORMALISE_FAILED',
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Rows a second from which a busy store gathers readings for `busyDelayMs` before committing. A
 * commit costs SQLite a WAL page for each index page it touches, and a few hundred readings from
 * as many devices touch about one page each: at 11,000 MQTT messages a second, transactions of
 * one event-loop turn held 40-600 readings, and waiting 20 ms for more took the gateway's CPU per
 * message from 28-31 µs to 23 µs (`npm run bench peers`). Below this rate the CPU is idle anyway
 * and every reading commits within its own turn.
 */
export const BUSY_ROWS_PER_S = 2_000;

/**
 * A busy store stops gathering once nothing has arrived for this long: producers that wait for
 * their acknowledgement (an MQTT 3.1.1 session with 20 messages in flight) send nothing more
 * until the commit, and must not wait out the whole busy delay for each of their windows.
 *
 * Unless the producers were seen not to wait. A pause is also what a producer that keeps sending
 * leaves between two socket reads on a loaded machine: at 11,000 MQTT messages a second from a
 * broker with no in-flight limit, pauses of 2-15 ms ended transactions at 250-550 rows, where
 * gathering to the busy delay makes them several times larger, and each row cheaper
 * (`npm run bench peers`). So the ingestor learns which it faces (`patient`): a batch that
 * gathered to its deadline tells, by whether readings came again after a pause without a commit
 * (the producers keep sending: pauses are only pauses) or came in one burst and then nothing
 * (someone may be waiting for this commit: pauses end batches). While pauses end batches, one
 * batch a PROBE_EVERY_MS gathers to its deadline to ask again.
 */
export const QUIET_MS = 2;
export const PROBE_EVERY_MS = 1_000;

/**
 * Groups what drivers submit within one turn of the event loop into one store transaction,
 * then resolves every submitter (so an MQTT driver acknowledges only committed messages).
 * Bounded: a batch is committed synchronously once `maxRows` are waiting, and submitters wait
 * while more than `queueMax` items are pending.
 */
export class Ingestor {
  private pending: Pending[] = [];
  private pendingRows = 0;
  private scheduled = false;
  private closed = false;
  private full = false;
  private readonly waiters: (() => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: CommitListener[] = [];
  private readonly rateLog: RateLimitedLog;
  /** Rows submitted since `rateStart`, and whether the last full second was busy (BUSY_ROWS_PER_S). */
  private rateStart = performance.now();
  private rateRows = 0;
  private busy = false;
  /** While gathering: when the last reading came, and when the batch commits at the latest. */
  private lastArrival = 0;
  private deadline = 0;
  /** Producers were last seen to keep sending through pauses: a pause does not end a batch (QUIET_MS). */
  private patient = false;
  /** The gathering batch ignores pauses to learn (`patient` or a probe), saw one, and saw readings come after one. */
  private toDeadline = false;
  private pauseSeen = false;
  private resumed = false;
  private lastProbe = -Infinity;
  /** Batches in a row that gathered to their deadline and held one burst and then nothing. */
  private silentBatches = 0;

  constructor(
    private readonly deps: {
      /** Where accepted samples and events are committed, in one transaction a batch (the store). */
      store: CommitTarget;
      normalise: NormaliseDeps;
      metrics: GatewayMetrics;
      log: Logger;
      maxRows: number;
      queueMax: number;
      /**
       * Longest a reading waits for others to share its transaction. 0 (the default): what
       * arrives within one turn of the event loop commits together, lowest latency; a few ms
       * trade latency for fewer, larger transactions (less CPU per reading on a busy site).
       */
      maxDelayMs?: number;
      /**
       * While readings arrive at BUSY_ROWS_PER_S or more, how long one waits at most for others
       * to share its transaction (when maxDelayMs is 0); the batch commits earlier once nothing
       * arrived for QUIET_MS. 0 (the default here; the gateway's config says 20 ms): always within one turn.
       */
      busyDelayMs?: number;
    },
  ) {
    this.rateLog = new RateLimitedLog(deps.log, deps.normalise.now);
  }

  onCommit(l: CommitListener): () => void {
    this.listeners.push(l);
    return () => {
      const i = this.listeners.indexOf(l);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** Refuse new input while the store is over its disk cap (overflow policy `reject_new`). */
  setFull(full: boolean): void {
    this.full = full;
  }

  async submit(batch: IngestBatch): Promise<void> {
    this.admit();
    while (this.pendingRows >= this.deps.queueMax) {
      await new Promise<void>((r) => this.waiters.push(r));
      // Checked again after the wait: close() (or the disk cap) may have come while this producer
      // waited, and what it would enqueue now would never be committed.
      this.admit();
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ batch, resolve, reject });
      const rows = (batch.readings?.length ?? 0) + (batch.events?.length ?? 0);
      this.pendingRows += rows;
      const now = this.countRate(rows);
      if (this.scheduled && now - this.lastArrival >= QUIET_MS) this.pauseSeen = true;
      if (this.pauseSeen) this.resumed = true;
      this.lastArrival = now;
      if (this.pendingRows >= this.deps.maxRows) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        if (this.deps.maxDelayMs) this.timer = setTimeout(() => this.flush(), this.deps.maxDelayMs);
        else if (this.gathering) {
          this.deadline = now + (this.deps.busyDelayMs ?? 0);
          this.pauseSeen = false;
          this.resumed = false;
          this.toDeadline = this.patient || now - this.lastProbe >= PROBE_EVERY_MS;
          if (this.toDeadline && !this.patient) this.lastProbe = now;
          // A batch that goes to its deadline has nothing to check before it: a pause followed by
          // a reading is seen when the reading comes, a pause to the end at the deadline.
          this.timer = setTimeout(this.gather, this.toDeadline ? Math.max(1, this.deadline - now) : QUIET_MS);
        } else setImmediate(() => this.flush());
      }
    });
  }

  /**
   * Gathering: commit at the deadline, or once QUIET_MS pass with nothing new (unless this batch
   * goes to its deadline, and then learns from what came).
   */
  private readonly gather = (): void => {
    this.timer = undefined;
    const now = performance.now();
    const quietFor = now - this.lastArrival;
    if (now >= this.deadline) {
      if (this.toDeadline) {
        if (quietFor >= QUIET_MS) this.pauseSeen = true;
        this.learn(now);
      }
      this.flush();
    } else if (this.toDeadline) this.timer = setTimeout(this.gather, Math.max(1, this.deadline - now));
    else if (quietFor >= QUIET_MS) this.flush();
    else this.timer = setTimeout(this.gather, Math.max(1, Math.min(this.deadline - now, QUIET_MS - quietFor)));
  };

  /**
   * A batch gathered to its deadline: readings that came again after a pause, or never paused,
   * mean producers that keep sending; one burst and then nothing means one may be waiting.
   */
  private learn(now: number): void {
    if (this.resumed || !this.pauseSeen) {
      this.patient = true;
      this.silentBatches = 0;
      return;
    }
    // One burst and then nothing. A patient ingestor takes two such batches in a row to believe
    // it (a pause longer than the delay also comes when a loaded machine stalls a producer), then
    // the next probe is a full PROBE_EVERY_MS away.
    this.silentBatches++;
    if (!this.patient || this.silentBatches >= 2) {
      if (this.patient) this.lastProbe = now;
      this.patient = false;
    }
  }

  /** Whether pauses currently do not end a busy batch (producers seen to keep sending). */
  get patientGathering(): boolean {
    return this.patient;
  }

  /**
   * Whether readings come at BUSY_ROWS_PER_S or more, judged once a second from what was
   * submitted; returns the time now.
   */
  private countRate(rows: number): number {
    const now = performance.now();
    const elapsed = now - this.rateStart;
    if (elapsed >= 1000) {
      this.busy = (this.rateRows * 1000) / elapsed >= BUSY_ROWS_PER_S;
      this.rateStart = now;
      this.rateRows = 0;
    }
    this.rateRows += rows;
    return now;
  }

  /** True while readings wait up to busyDelayMs to share a transaction. */
  get gathering(): boolean {
    return this.busy && !this.deps.maxDelayMs && (this.deps.busyDelayMs ?? 0) > 0;
  }

  private admit(): void {
    if (this.closed) throw new IngestError('INGEST_CLOSED', 'ingest is closed: the gateway is shutting down', true);
    if (this.full) throw new IngestError('STORE_FULL', 'the store is at its disk cap', true);
  }

  /**
   * Count and log something a driver could not accept. A duplicate (a redelivery, the same
   * uplink through a second gateway, a batch sent twice) is not bad input: it is counted with
   * the duplicates and logged at debug level.
   */
  reject(r: Rejection): void {
    if (r.reason === 'duplicate') {
      this.deps.metrics.duplicates.inc({ kind: 'message' });
      this.deps.log.debug({ device: r.device, connection: r.connection, reason: r.reason }, r.detail);
      return;
    }
    this.deps.metrics.rejections.inc({ reason: r.reason });
    // At most 5 lines a minute per device and reason, and 20 per reason over all devices.
    this.rateLog.warn(`${r.reason}:${r.device ?? r.connection ?? ''}`, { device: r.device, connection: r.connection, reason: r.reason }, r.detail, r.reason);
  }

  /** Commit everything pending now. */
  flush(): void {
    this.scheduled = false;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const work = this.pending;
    this.pending = [];
    this.pendingRows = 0;
    const end = this.deps.metrics.commitSeconds.startTimer();
    let samples: Sample[] = [];
    let events: GatewayEvent[] = [];
    const accepted: Pending[] = [];
    for (const p of work) {
      let res: ReturnType<typeof normalise>;
      try {
        res = normalise(p.batch, this.deps.normalise);
      } catch (cause) {
        // One batch the normaliser cannot handle is refused alone; the rest still commit.
        this.normaliseFailed(p, cause);
        continue;
      }
      accepted.push(p);
      for (const s of res.samples) samples.push(s);
      for (const e of res.events) events.push(e);
      for (const r of res.rejections) this.reject(r);
      if (res.duplicates) this.deps.metrics.duplicates.inc({ kind: 'sample' }, res.duplicates);
    }
    try {
      const outcome = this.deps.store.write(samples, events);
      if (outcome?.samples) this.deps.metrics.duplicates.inc({ kind: 'sample' }, outcome.samples);
      if (outcome?.events) this.deps.metrics.duplicates.inc({ kind: 'event' }, outcome.events);
      // Copies of stored rows are neither counted as ingested nor streamed live again.
      const copies = outcome?.copies;
      if (copies) {
        samples = samples.filter((x) => !copies.has(x));
        events = events.filter((x) => !copies.has(x));
      }
    } catch (cause) {
      this.deps.normalise.counters.settle();
      const err = new IngestError('STORE_WRITE_FAILED', `store write failed: ${(cause as Error).message}`, true, { cause });
      this.deps.log.error({ err: cause, rows: samples.length + events.length }, 'store write failed; producers will retry');
      for (const p of accepted) p.reject(err);
      this.release();
      return;
    }
    // Late counter points are in the store now: it answers for them from here on.
    this.deps.normalise.counters.settle();
    end();
    this.deps.metrics.ingestBatches.inc();
    // prom-client hashes labels on every inc: count per label set first, then inc once each.
    const bySampleLabels = new PairMap<number>();
    const flagged = new PairMap<number>();
    for (const s of samples) {
      bySampleLabels.set(s.class, s.quality, (bySampleLabels.get(s.class, s.quality) ?? 0) + 1);
      if (s.quality !== 'good') flagged.set(s.class, s.reason ?? '', (flagged.get(s.class, s.reason ?? '') ?? 0) + 1);
    }
    for (const [cls, reason, n] of flagged.entries()) this.deps.metrics.samplesFlagged.inc({ class: cls, reason }, n);
    for (const [cls, quality, n] of bySampleLabels.entries()) this.deps.metrics.samplesIngested.inc({ class: cls, quality }, n);
    for (const e of events) this.deps.metrics.eventsIngested.inc({ class: e.class, type: e.type });
    for (const p of accepted) p.resolve();
    this.release();
    for (const l of this.listeners) {
      try {
        l(samples, events);
      } catch (err) {
        this.deps.log.error({ err }, 'commit listener failed');
      }
    }
  }

  /**
   * The normaliser threw (a bug, or input it was never meant to see): the producer gets its own
   * code, not retryable (the same input would throw again), and the rows are counted as rejected.
   */
  private normaliseFailed(p: Pending, cause: unknown): void {
    const rows = (p.batch.readings?.length ?? 0) + (p.batch.events?.length ?? 0);
    const device = p.batch.readings?.[0]?.device ?? p.batch.events?.[0]?.device;
    this.deps.metrics.rejections.inc({ reason: 'normalise_failed' }, Math.max(1, rows));
    this.rateLog.warn(`normalise_failed:${device ?? ''}`, { err: cause, device, rows, reason: 'normalise_failed' }, 'normalise failed; the batch is refused', 'normalise_failed');
    p.reject(new IngestError('NORMALISE_FAILED', `normalise failed: ${(cause as Error)?.message ?? String(cause)}`, false, { cause }));
  }

  private release(): void {
    this.deps.metrics.queueDepth.set({ queue: 'ingest' }, this.pendingRows);
    while (this.waiters.length && this.pendingRows < this.deps.queueMax) this.waiters.shift()?.();
  }

  depth(): number {
    return this.pendingRows;
  }

  /** Flush what is pending and refuse more. */
  close(): void {
    this.flush();
    this.closed = true;
    for (const w of this.waiters.splice(0)) w();
  }
}
