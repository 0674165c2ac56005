import type Database from 'better-sqlite3';
import { statSync } from 'node:fs';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../model/clock.js';
import { PairMap } from '../model/pair-map.js';
import type { GatewayEvent, Sample } from '../model/types.js';
import { boolMetric, encodeQuality, encodeValue } from './codec.js';
import type { WalCheckpointer } from './checkpointer.js';
import type { Cursor, SeriesInfo, StoreCore } from './core.js';
import { openConnection } from './connection.js';
import { StoreError } from './errors.js';
import { SeriesHistory } from './history.js';
import { IdentityWriter, type WriteOutcome } from './identity.js';
import { KpiReads } from './kpi-reads.js';
import { LogFold } from './log-fold.js';
import { LogReads, type StoredEvent, type StoredSample } from './log-reads.js';
import { applyRetention, foldRollups, RollupFold, type RetentionPolicy, type RetentionResult } from './maintenance.js';
import { checkSpec, prepareOwned, type OwnedTables, type Sql, type TableSpec } from './owned-tables.js';
import { StoreReads } from './queries.js';
import { QUALITY_CODE, STORE_TABLES } from './schema.js';

export type { Cursor, SeriesInfo } from './core.js';
export type { WriteOutcome } from './identity.js';
export type { StoredEvent, StoredSample } from './log-reads.js';
export interface DeviceRecord {
  id: string;
  class: string;
  connection: string;
  profile: string;
  tags: Record<string, string>;
  discovered: boolean;
}

export interface StoreOptions {
  path: string;
  site: string;
  clock?: Clock;
  log?: Logger;
  /** Run WAL checkpoints on a worker thread instead of inside commits once the write rate calls for it (the gateway does). */
  checkpointThread?: boolean;
  /** Open an existing store file to read only (a report next to a running gateway): no schema, no writes. */
  readOnly?: boolean;
}


/**
 * The embedded store: samples, events, latest values, devices, rollups and consumer cursors in
 * one SQLite file (WAL). A transaction committed here survives a kill -9 of the process.
 *
 * The connection is private: the store alone issues SQL on its tables. Other parts read through
 * `reads` (API, activity) and `kpiReads()` (KPIs), and keep tables of their own in the same file
 * through `ownTables` (KPI state, dead letters).
 */
export class Store implements StoreCore {
  private readonly db: Database.Database;
  readonly site: string;
  readonly path: string;
  readonly clock: Clock;
  private readonly seriesByKey = new PairMap<SeriesInfo>();
  private readonly seriesById = new Map<number, SeriesInfo>();
  private readonly tagCache = new Map<string, Record<string, string>>();
  private newestSeries = 0;
  private readonly stmt;
  private readonly writeTx: (samples: readonly Sample[], events: readonly GatewayEvent[]) => WriteOutcome;
  private closed = false;
  private readonly log: LogFold;
  private readonly logReads: LogReads;
  /** Off the commit path: the WAL checkpoint thread, when asked for (started under load, checkpointer.ts). */
  readonly checkpointer: WalCheckpointer | undefined;
  readonly readOnly: boolean;
  /** Reads for the API, the dashboard, runtime/activity. */
  readonly reads: StoreReads;
  private kpi: KpiReads | undefined;
  private hist: SeriesHistory | undefined;
  /** Which part owns which of the other tables in the file. */
  private readonly owners = new Map<string, string>();

  static open(opts: StoreOptions): Store {
    return new Store(opts);
  }

  private constructor(opts: StoreOptions) {
    this.site = opts.site;
    this.path = opts.path;
    this.clock = opts.clock ?? systemClock;
    this.readOnly = opts.readOnly === true;
    const opened = openConnection(opts);
    this.db = opened.db;
    this.checkpointer = opened.checkpointer;

    this.stmt = {
      insertSeries: this.db.prepare('INSERT INTO series (device, class, metric) VALUES (?, ?, ?)'),
      upsertLatest: this.db.prepare(
        `INSERT INTO latest (series_id, ts, value, quality, reason, received_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id) DO UPDATE SET ts = excluded.ts, value = excluded.value, quality = excluded.quality,
           reason = excluded.reason, received_at = excluded.received_at
         WHERE excluded.ts >= latest.ts`,
      ),
      getCursor: this.db.prepare('SELECT samples, events FROM cursors WHERE consumer = ?'),
      setCursor: this.db.prepare(
        `INSERT INTO cursors (consumer, samples, events, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (consumer) DO UPDATE SET samples = excluded.samples, events = excluded.events, updated_at = excluded.updated_at`,
      ),
      maxSamples: this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'samples_recent'"),
      maxEvents: this.db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
      upsertDevice: this.db.prepare(
        `INSERT INTO devices (id, class, connection, profile, tags, discovered, first_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET class = excluded.class, connection = excluded.connection,
           profile = excluded.profile, tags = excluded.tags, discovered = excluded.discovered`,
      ),
      deviceTags: this.db.prepare('SELECT tags FROM devices WHERE id = ?'),
      seriesSince: this.db.prepare('SELECT id, device, class, metric FROM series WHERE id > ? ORDER BY id'),
    };
    this.reads = new StoreReads(this.db, this);
    this.logReads = new LogReads(this.db, this.site, this.seriesById);
    this.refreshSeries();
    this.log = new LogFold(this.db, this.clock.now());

    const identity = new IdentityWriter(this.db);
    this.writeTx = this.db.transaction((samples: readonly Sample[], events: readonly GatewayEvent[]): WriteOutcome => {
      const now = this.clock.now();
      const seriesOf = (s: Sample) => this.seriesId(s.device, s.class, s.metric);
      const latest = (sid: number, s: Sample) => this.stmt.upsertLatest.run(sid, s.ts, encodeValue(s.value), encodeQuality(s.quality), s.reason ?? null, now);
      const out = identity.write(samples, events, seriesOf, latest);
      this.log.committed(samples.length - out.samples, now);
      return out;
    });
  }

  /**
   * Move the recent samples into the archive now, in one transaction
   * (a commit does it every FOLD_ROWS samples or FOLD_MS: schema.ts says why).
   */
  foldLog(): void {
    if (this.readOnly) throw new StoreError('STORE_READ_ONLY', 'the store is open read-only');
    this.log.now();
  }

  /** Folds of samples_recent into samples_archive since the store opened. */
  get folds(): number {
    return this.log.folds;
  }

  /** Learn series written by another connection since (a read-only store next to a running gateway). */
  refreshSeries(): void {
    for (const r of this.stmt.seriesSince.all(this.newestSeries) as { id: number; device: string; class: string; metric: string }[]) {
      this.remember({ id: r.id, device: r.device, cls: r.class, metric: r.metric });
    }
  }

  /** Stored neighbours in time of a series' samples (the pipeline's counter check for late readings). */
  history(): SeriesHistory {
    this.hist ??= new SeriesHistory(this.db, (d, m) => this.series(d, m));
    return this.hist;
  }

  /** The reads the KPI module needs (one instance per store: its statements are prepared once). */
  kpiReads(): KpiReads {
    this.kpi ??= new KpiReads(this.db, this);
    return this.kpi;
  }

  /**
   * Tables another part owns in this file: its schema is run and its statements prepared, after
   * checking that they name only its own tables (never the store's, nor another owner's).
   */
  ownTables<S extends Record<string, Sql<unknown>>>(spec: TableSpec<S>): OwnedTables<S> {
    if (this.readOnly) throw new StoreError('STORE_READ_ONLY', `${spec.owner}: the store is open read-only`);
    checkSpec(spec, STORE_TABLES, this.owners);
    return prepareOwned(this.db, spec);
  }

  /** Run `fn` in one transaction of the store's connection (nested calls join the outer one). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Fold new samples into the rollups, at most `maxRows` of them; returns how many were read. */
  updateRollups(maxRows = 500_000): number {
    return foldRollups(this.db, this, maxRows);
  }

  /** A fold of the rollups read in slices and written once (maintenance.ts, RollupFold). */
  rollupFold(): RollupFold {
    return new RollupFold(this.db, this);
  }

  /** Expire and, at the disk cap, drop what the policy says (maintenance.ts). */
  enforceRetention(policy: RetentionPolicy): RetentionResult {
    this.log.now();
    return applyRetention(this.db, this, policy);
  }

  /** SQLite's integrity check: 'ok', or what is wrong. */
  integrityCheck(): string {
    return this.db.pragma('integrity_check', { simple: true }) as string;
  }

  /** Pages after which a commit checkpoints the WAL itself (0 while the checkpoint thread runs). */
  walAutocheckpoint(): number {
    return this.db.pragma('wal_autocheckpoint', { simple: true }) as number;
  }

  private remember(info: SeriesInfo): void {
    if (info.id > this.newestSeries) this.newestSeries = info.id;
    info.bool = boolMetric(info.cls, info.metric);
    this.seriesByKey.set(info.device, info.metric, info);
    this.seriesById.set(info.id, info);
  }

  private seriesId(device: string, cls: string, metric: string): number {
    const hit = this.seriesByKey.get(device, metric);
    if (hit) return hit.id;
    const id = Number(this.stmt.insertSeries.run(device, cls, metric).lastInsertRowid);
    this.remember({ id, device, cls, metric });
    return id;
  }

  /** Look up a series (for queries); undefined when never written. */
  series(device: string, metric: string): SeriesInfo | undefined {
    return this.seriesByKey.get(device, metric);
  }

  seriesInfo(id: number): SeriesInfo | undefined {
    return this.seriesById.get(id);
  }

  allSeries(): SeriesInfo[] {
    return [...this.seriesById.values()];
  }

  /**
   * Write samples and events in one transaction, by identity (identity.ts): a copy of what is
   * stored is kept once and counted in the outcome; another value at the same series and time
   * replaces the old one.
   */
  write(samples: readonly Sample[], events: readonly GatewayEvent[] = []): WriteOutcome {
    if (samples.length === 0 && events.length === 0) return { samples: 0, events: 0 };
    const out = this.writeTx(samples, events);
    this.checkpointer?.committed(samples.length + events.length);
    return out;
  }

  samplesAfter(seq: number, limit: number): StoredSample[] {
    return this.logReads.samplesAfter(seq, limit);
  }

  eventsAfter(seq: number, limit: number): StoredEvent[] {
    return this.logReads.eventsAfter(seq, limit);
  }

  maxSeq(): Cursor {
    const s = this.stmt.maxSamples.get() as { seq: number } | undefined;
    const e = this.stmt.maxEvents.get() as { seq: number } | undefined;
    return { samples: s?.seq ?? 0, events: e?.seq ?? 0 };
  }

  getCursor(consumer: string): Cursor | undefined {
    return this.stmt.getCursor.get(consumer) as Cursor | undefined;
  }

  setCursor(consumer: string, c: Partial<Cursor>): void {
    const prev = this.getCursor(consumer) ?? { samples: 0, events: 0 };
    this.stmt.setCursor.run(consumer, c.samples ?? prev.samples, c.events ?? prev.events, this.clock.now());
  }

  listCursors(): (Cursor & { consumer: string; updated_at: number })[] {
    return this.db.prepare('SELECT consumer, samples, events, updated_at FROM cursors').all() as (Cursor & {
      consumer: string;
      updated_at: number;
    })[];
  }

  deleteCursor(consumer: string): void {
    this.db.prepare('DELETE FROM cursors WHERE consumer = ?').run(consumer);
  }

  /** The cursor a consumer starting at `ts` should take: everything at or after ts is after it. */
  firstSeqAtOrAfter(ts: number): Cursor {
    const s = this.db.prepare('SELECT min(seq) AS seq FROM samples WHERE ts >= ?').get(ts) as { seq: number | null };
    const e = this.db.prepare('SELECT min(seq) AS seq FROM events WHERE ts >= ?').get(ts) as { seq: number | null };
    const max = this.maxSeq();
    return {
      samples: s.seq === null ? max.samples : s.seq - 1,
      events: e.seq === null ? max.events : e.seq - 1,
    };
  }

  upsertDevice(d: DeviceRecord): void {
    this.stmt.upsertDevice.run(d.id, d.class, d.connection, d.profile, JSON.stringify(d.tags), d.discovered ? 1 : 0, this.clock.now());
    this.tagCache.set(d.id, d.tags);
  }

  /** Static tags of a device (from config or discovery), for sinks. */
  deviceTags(device: string): Record<string, string> {
    const hit = this.tagCache.get(device);
    if (hit) return hit;
    const row = this.stmt.deviceTags.get(device) as { tags: string } | undefined;
    const tags = row ? (JSON.parse(row.tags) as Record<string, string>) : {};
    this.tagCache.set(device, tags);
    return tags;
  }

  listDevices(): DeviceRecord[] {
    const rows = this.db.prepare('SELECT id, class, connection, profile, tags, discovered FROM devices ORDER BY id').all() as {
      id: string;
      class: string;
      connection: string;
      profile: string;
      tags: string;
      discovered: number;
    }[];
    return rows.map((r) => ({ ...r, tags: JSON.parse(r.tags) as Record<string, string>, discovered: r.discovered === 1 }));
  }

  /** Mark a silent device's latest values stale in place: value and time are kept, never re-stamped. */
  markStale(device: string): number {
    return this.db
      .prepare(
        `UPDATE latest SET quality = max(quality, ${QUALITY_CODE.uncertain}), reason = 'stale'
         WHERE series_id IN (SELECT id FROM series WHERE device = ?) AND quality < ${QUALITY_CODE.bad}`,
      )
      .run(device).changes;
  }

  /** Bytes in use (pages not on the free list) plus the WAL. */
  sizeBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /** Bytes in the write-ahead log file (0 for an in-memory store). */
  walBytes(): number {
    if (this.path === ':memory:') return 0;
    try {
      return statSync(`${this.path}-wal`).size;
    } catch {
      return 0;
    }
  }

  counts(): { samples: number; events: number; series: number } {
    const n = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      samples: n('SELECT count(*) AS n FROM samples'),
      events: n('SELECT count(*) AS n FROM events'),
      series: this.seriesById.size,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.checkpointer?.stop();
    try {
      if (!this.readOnly) this.db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      this.db.close();
    }
  }

  get isOpen(): boolean {
    return !this.closed;
  }
}
