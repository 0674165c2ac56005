import type Database from 'better-sqlite3';
import { QUALITY_CODE } from './schema.js';
import type { StoreCore } from './core.js';

/**
 * Background upkeep of the store: rollups (a consumer of the sample log like any sink) and
 * retention. Deleting never passes a consumer's cursor, except when the disk cap forces it,
 * and then it is counted and reported.
 */

/** The rollups' name in the cursors table: rollups hold every sample up to its position. */
export const ROLLUP_CONSUMER = 'rollup';
const CHUNK = 50_000;

interface Agg {
  sid: number;
  bucket: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

/** Fold new samples into the 1-minute and 1-hour rollups. Returns how many samples were read. */
export function updateRollups(store: { updateRollups(maxRows: number): number }, maxRows = 500_000): number {
  return store.updateRollups(maxRows);
}

/** What enforceRetention does, on the store's connection (Store.enforceRetention). */
export function enforceRetention(store: { enforceRetention(p: RetentionPolicy): RetentionResult }, policy: RetentionPolicy): RetentionResult {
  return store.enforceRetention(policy);
}

/** updateRollups on the store's connection (called by the store): chunks of CHUNK rows, each written as it is folded. */
export function foldRollups(db: Database.Database, store: StoreCore, maxRows: number): number {
  const fold = new RollupFold(db, store);
  let read = 0;
  while (read < maxRows) {
    // maxRows bounds the work of one call, so a caller can work off a backlog in slices.
    const want = Math.min(CHUNK, maxRows - read);
    const n = fold.read(want);
    fold.flush();
    read += n;
    if (n < want) break;
  }
  return read;
}

type RollupRow = [seq: number, seriesId: number, ts: number, value: unknown, quality: number, reason: string | null];

/**
 * Rollup aggregates folded from the sample log and not yet written. A catch-up reads the log in
 * slices (the event loop free in between) into one fold and writes it once: a slice of a busy
 * log holds a few rows of each of hundreds of series, so writing each slice upserted nearly a
 * row per sample read, and writing once upserts one row per series and bucket. `flush` writes
 * the aggregates and moves the rollups' cursor in one transaction; until then the cursor stays
 * put, so retention keeps the rows and a crash only means reading them again.
 */
export class RollupFold {
  private readonly select;
  private readonly up1m;
  private readonly up1h;
  private m1: Buckets = new Map();
  private h1: Buckets = new Map();
  /** The log position read up to (the rollups' cursor until the first read). */
  private seq: number;
  private flushed: number;
  private waiting = 0;

  constructor(
    private readonly db: Database.Database,
    private readonly store: StoreCore,
  ) {
    // Rows as arrays: no object with column names per row.
    this.select = db.prepare('SELECT seq, series_id, ts, value, quality, reason FROM samples WHERE seq > ? ORDER BY seq LIMIT ?').raw(true);
    const upsert = (table: string) =>
      db.prepare(
        `INSERT INTO ${table} (series_id, bucket, count, sum, min, max, last, last_ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (series_id, bucket) DO UPDATE SET count = count + excluded.count, sum = sum + excluded.sum,
           min = min(min, excluded.min), max = max(max, excluded.max),
           last = CASE WHEN excluded.last_ts >= last_ts THEN excluded.last ELSE last END,
           last_ts = max(last_ts, excluded.last_ts)`,
      );
    this.up1m = upsert('rollup_1m');
    this.up1h = upsert('rollup_1h');
    this.seq = store.getCursor(ROLLUP_CONSUMER)?.samples ?? 0;
    this.flushed = this.seq;
  }

  /** Aggregates (series × bucket, both tables) waiting to be written. */
  get pending(): number {
    return this.waiting;
  }

  /** Fold at most maxRows rows after what was read; returns how many were read. */
  read(maxRows: number): number {
    const rows = this.select.all(this.seq, maxRows) as RollupRow[];
    for (const r of rows) {
      // Only numbers (and booleans stored 0/1) of usable quality go into aggregates; a value a
      // device cannot produce (implausible, even when only `uncertain`) never does, as in the KPIs.
      const [, sid, ts, value, quality, reason] = r;
      if (typeof value !== 'number' || quality === QUALITY_CODE.bad || reason === 'implausible') continue;
      this.waiting += fold(this.m1, sid, ts - (ts % 60_000), value, ts) + fold(this.h1, sid, ts - (ts % 3_600_000), value, ts);
    }
    if (rows.length) this.seq = (rows[rows.length - 1] as RollupRow)[0];
    return rows.length;
  }

  /** Write what was folded and move the rollups' cursor past it, in one transaction. */
  flush(): void {
    if (this.seq === this.flushed) return;
    const { m1, h1, seq } = this;
    this.db.transaction(() => {
      for (const bySeries of m1.values()) for (const a of bySeries.values()) this.up1m.run(a.sid, a.bucket, a.count, a.sum, a.min, a.max, a.last, a.lastTs);
      for (const bySeries of h1.values()) for (const a of bySeries.values()) this.up1h.run(a.sid, a.bucket, a.count, a.sum, a.min, a.max, a.last, a.lastTs);
      this.store.setCursor(ROLLUP_CONSUMER, { samples: seq });
    })();
    this.m1 = new Map();
    this.h1 = new Map();
    this.waiting = 0;
    this.flushed = seq;
  }
}

/** Aggregates by series, then bucket start (numbers as keys: no key string per row). */
type Buckets = Map<number, Map<number, Agg>>;

/** Fold one value into its aggregate; 1 when that aggregate is new. */
function fold(map: Buckets, sid: number, bucket: number, v: number, ts: number): number {
  let bySeries = map.get(sid);
  if (!bySeries) map.set(sid, (bySeries = new Map()));
  const a = bySeries.get(bucket);
  if (!a) {
    bySeries.set(bucket, { sid, bucket, count: 1, sum: v, min: v, max: v, last: v, lastTs: ts });
    return 1;
  }
  a.count++;
  a.sum += v;
  if (v < a.min) a.min = v;
  if (v > a.max) a.max = v;
  if (ts >= a.lastTs) {
    a.last = v;
    a.lastTs = ts;
  }
  return 0;
}

export interface RetentionPolicy {
  rawMs: number;
  rollupsMs: number;
  eventsMs: number;
  maxDiskBytes: number;
  overflow: 'drop_oldest' | 'reject_new';
}

export interface RetentionResult {
  expiredSamples: number;
  expiredEvents: number;
  /** Samples every consumer had already read, dropped early (before raw retention) for the disk cap. */
  droppedSent: number;
  /** Samples dropped before every consumer (a sink, the rollups) had them, because the disk cap was reached. */
  droppedUnsent: number;
  /** Events dropped at the disk cap: ones every consumer had, and ones some consumer had not. */
  droppedEventsSent: number;
  droppedEventsUnsent: number;
  /** The store was over max_disk when this run began. */
  reachedCap: boolean;
  /** It still is after what the policy did (always, under reject_new, until retention frees space). */
  overCap: boolean;
  sizeBytes: number;
}

/** The lowest position every consumer (sinks, rollups) has passed. */
function minCursor(db: Database.Database, store: StoreCore): { samples: number; events: number } {
  const row = db.prepare('SELECT min(samples) AS s, min(events) AS e FROM cursors').get() as {
    s: number | null;
    e: number | null;
  };
  const max = store.maxSeq();
  return { samples: row.s ?? max.samples, events: row.e ?? max.events };
}

/** enforceRetention on the store's connection (called by the store, its recent samples folded into the archive). */
export function applyRetention(db: Database.Database, store: StoreCore, policy: RetentionPolicy): RetentionResult {
  const now = store.clock.now();
  const safe = minCursor(db, store);
  const res: RetentionResult = {
    expiredSamples: 0,
    expiredEvents: 0,
    droppedSent: 0,
    droppedUnsent: 0,
    droppedEventsSent: 0,
    droppedEventsUnsent: 0,
    reachedCap: false,
    overCap: false,
    sizeBytes: 0,
  };
  // The store folds its recent samples into the archive before it calls this: every sample is there.
  const delSamples = db.prepare(
    'DELETE FROM samples_archive WHERE seq IN (SELECT seq FROM samples_archive WHERE seq <= ? ORDER BY seq LIMIT ?) AND ts < ?',
  );
  for (;;) {
    const n = delSamples.run(safe.samples, CHUNK, now - policy.rawMs).changes;
    res.expiredSamples += n;
    if (n === 0) break;
  }
  res.expiredEvents = db
    .prepare('DELETE FROM events WHERE seq <= ? AND ts < ?')
    .run(safe.events, now - policy.eventsMs).changes;
  db.prepare('DELETE FROM rollup_1m WHERE bucket < ?').run(now - Math.min(policy.rollupsMs, 35 * 86_400_000));
  db.prepare('DELETE FROM rollup_1h WHERE bucket < ?').run(now - policy.rollupsMs);

  res.sizeBytes = store.sizeBytes();
  if (res.sizeBytes > policy.maxDiskBytes) {
    res.reachedCap = true;
    if (policy.overflow === 'drop_oldest') {
      // Drop the oldest tenth at a time until under 90 % of the cap: first local history every
      // consumer already has (samples, then events), then, only if that is not enough, unsent
      // samples and events: the cap wins, loudly.
      const dropper = (table: 'samples_archive' | 'events') => {
        const del = db.prepare(`DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE seq <= ? ORDER BY seq LIMIT ?)`);
        const count = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE seq <= ?`);
        return (upTo: number, rounds: number): number => {
          let dropped = 0;
          for (let i = 0; i < rounds && store.sizeBytes() > policy.maxDiskBytes * 0.9; i++) {
            const total = (count.get(upTo) as { n: number }).n;
            if (total === 0) break;
            dropped += del.run(upTo, Math.max(1000, Math.ceil(total / 10))).changes;
          }
          return dropped;
        };
      };
      const samples = dropper('samples_archive');
      const events = dropper('events');
      // Sent history may go to the last row (so what follows is truly unsent); unsent rows at
      // most 20 rounds per run, which bounds what one run can lose when other tables fill the disk.
      res.droppedSent = samples(safe.samples, Number.POSITIVE_INFINITY);
      res.droppedEventsSent = events(safe.events, Number.POSITIVE_INFINITY);
      res.droppedUnsent = samples(Number.MAX_SAFE_INTEGER, 20);
      res.droppedEventsUnsent = events(Number.MAX_SAFE_INTEGER, 20);
      res.sizeBytes = store.sizeBytes();
    }
    res.overCap = res.sizeBytes > policy.maxDiskBytes;
  }
  return res;
}
