import type Database from 'better-sqlite3';
import type { Quality } from '../model/types.js';
import { decodeQuality } from './codec.js';
import { ROLLUP_CONSUMER } from './maintenance.js';
import { QUALITY_CODE } from './schema.js';
import { LatePairs, type Pairing } from './late-pairs.js';
import type { StoreCore } from './core.js';

/**
 * The reads the KPI module needs from the store's tables (series, samples, events, devices,
 * rollup_1h, cursors), shaped for its long windows. Read-only, so a report can run them on a
 * store opened read-only while the gateway runs. The KPI module's own tables are its own
 * (kpi/state-db.ts, through Store.ownTables).
 */

/** One hourly rollup: count, min, max and last of the hour's usable numbers. */
export interface HourBucket {
  start: number;
  count: number;
  min: number;
  max: number;
  last: number;
  lastTs: number;
}

export interface DeviceInfo {
  id: string;
  class: string;
  tags: Record<string, string>;
}

export interface RawRow {
  ts: number;
  value: unknown;
  quality: Quality;
  reason: string | null;
}

export interface RollupState {
  usable: boolean;
  /** Hours per series holding samples the rollup consumer has not folded yet. */
  dirty: Map<number, number[]>;
}

export interface HourChain {
  hours: number;
  suspicious: number;
  coveredMs: number;
  maxCount: number;
  /** The first hour's start and min (its first value when it only grew). */
  first?: { ts: number; v: number };
  /** The last hour's last sample. */
  last?: { ts: number; v: number };
}

export interface EventRow {
  ts: number;
  device: string;
  class: string;
  type: string;
  attributes: Record<string, string | number | boolean>;
}

/** The partial index over flagged (uncertain) samples (schema.ts): tiny, and it finds counter resets without reading a month. */
const FLAG_INDEX = 'kpi_samples_flagged';
/** Past this many samples not yet folded into rollups, finding the hours they touch costs more than reading raw. */
const MAX_ROLLUP_BACKLOG = 200_000;

/** Usable quality in SQL: good or uncertain (the value column is what was measured). */
const USABLE = `quality < ${QUALITY_CODE.bad}`;

export class KpiReads {
  private readonly s: ReturnType<typeof prepareAll>;
  private pairs: LatePairs | undefined;

  /** Built by the store (Store.kpiReads), which holds the connection. */
  constructor(
    private readonly db: Database.Database,
    private readonly store: StoreCore,
  ) {
    this.s = prepareAll(db);
  }

  /** Times of the starts that completions stored after `afterSeq` pair with (late-pairs.ts). */
  pairedStarts(afterSeq: number, p: Pairing, horizonMs: number): number[] {
    this.pairs ??= new LatePairs(this.db);
    return this.pairs.starts(afterSeq, p, horizonMs);
  }

  /** Pick up series written since (a store opened read-only next to a running gateway). */
  refresh(): void {
    this.store.refreshSeries();
  }

  seriesId(device: string, metric: string): number | undefined {
    return this.store.series(device, metric)?.id;
  }

  /** Devices from the devices table, plus any that only appear in series (class from there, no tags). */
  devices(): DeviceInfo[] {
    const out = new Map<string, DeviceInfo>();
    for (const r of this.s.devices.all() as { id: string; class: string; tags: string }[]) {
      out.set(r.id, { id: r.id, class: r.class, tags: parseTags(r.tags) });
    }
    for (const r of this.s.seriesDevices.all() as { device: string; class: string }[]) {
      if (!out.has(r.device)) out.set(r.device, { id: r.device, class: r.class, tags: {} });
    }
    return [...out.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Usable samples (good or uncertain) of a series in [from, to), oldest first. */
  raw(sid: number, from: number, to: number): RawRow[] {
    return (this.s.raw.all(sid, from, to) as StoredRow[]).map(decodeRow);
  }

  before(sid: number, ts: number): RawRow | undefined {
    const r = this.s.before.get(sid, ts) as StoredRow | undefined;
    return r && decodeRow(r);
  }

  atOrAfter(sid: number, ts: number): RawRow | undefined {
    const r = this.s.atOrAfter.get(sid, ts) as StoredRow | undefined;
    return r && decodeRow(r);
  }

  /** Timestamps of the newest `n` samples before `ts` (to estimate the sampling interval). */
  recentTs(sid: number, ts: number, n: number): number[] {
    return (this.s.recentTs.all(sid, ts, n) as { ts: number }[]).map((r) => r.ts);
  }

  hours(sid: number, from: number, to: number): HourBucket[] {
    // Arrays, not objects: a month is 720 rows per series and this is the hot path of long windows.
    const rows = this.s.hours.raw(true).all(sid, from, to) as [number, number, number, number, number, number][];
    return rows.map(([start, count, min, max, last, lastTs]) => ({ start, count, min, max, last, lastTs }));
  }

  /**
   * Which hourly rollups can be trusted: none when the rollup consumer never ran or is far
   * behind; otherwise all except the (series, hour) pairs holding samples it has not folded yet.
   */
  rollupState(): RollupState {
    const cur = this.s.rollupCursor.get(ROLLUP_CONSUMER) as { samples: number } | undefined;
    if (!cur) return { usable: false, dirty: new Map() };
    const max = this.maxSeq().samples;
    if (max - cur.samples > MAX_ROLLUP_BACKLOG) return { usable: false, dirty: new Map() };
    const dirty = new Map<number, number[]>();
    for (const r of this.s.dirty.all(cur.samples, cur.samples) as { sid: number; hour: number }[]) {
      const list = dirty.get(r.sid);
      if (list) list.push(r.hour);
      else dirty.set(r.sid, [r.hour]);
    }
    return { usable: true, dirty };
  }

  /**
   * A chain of hourly rollups summed up inside SQLite (a month is 720 rows per series; only a few
   * numbers come back): hours that went down, and the covered time from the sample counts on the
   * terms of rollups.hourCoverage. `skip` lists hours to leave out (not yet folded).
   *
   * A drop inside an hour shows as last < max. A drop between hours is found from the pipeline's
   * flags (every decrease of a counter is flagged counter_reset or counter_rollover) through the
   * partial index on flagged samples, while the raw samples are retained; before that, or
   * without the index, by comparing each hour with the next (a self-join, several times dearer).
   */
  hourChain(sid: number, from: number, to: number, skip: readonly number[], intervalMs: number, maxGap: number): HourChain {
    const base = { sid, from, to, iv: intervalMs, gap: maxGap };
    const ends = { sid, from, to, skip: JSON.stringify(skip) };
    const agg = (skip.length ? this.s.chainSkip.get({ ...base, skip: ends.skip }) : this.s.chain.get(base)) as {
      n: number;
      suspicious: number | null;
      covered: number | null;
      max_count: number | null;
    };
    let drops = agg.suspicious ?? 0;
    const oldest = this.oldestSample(sid) ?? to;
    const flagged = this.flagIndex();
    const rawFrom = flagged ? Math.max(from, oldest - (oldest % 3_600_000) + 3_600_000) : to;
    if (flagged && rawFrom < to) drops += (this.s.flagged.get(sid, rawFrom, to) as { n: number }).n;
    if (from < rawFrom) drops += (this.s.crossDrops.get({ sid, from, to: Math.min(to, rawFrom + 3_600_000) }) as { n: number | null }).n ?? 0;
    const first = this.s.chainFirst.get(ends) as { bucket: number; min: number } | undefined;
    const last = this.s.chainLast.get(ends) as { last: number; last_ts: number } | undefined;
    return {
      hours: agg.n,
      suspicious: drops,
      coveredMs: agg.covered ?? 0,
      maxCount: agg.max_count ?? 0,
      ...(first ? { first: { ts: first.bucket, v: first.min } } : {}),
      ...(last ? { last: { ts: last.last_ts, v: last.last } } : {}),
    };
  }

  /** The time of a series' oldest stored sample, wherever in the log it is; undefined when it has none. */
  oldestSample(sid: number): number | undefined {
    return (this.s.oldest.get(sid, sid) as { ts: number | null }).ts ?? undefined;
  }

  private flagIndexKnown: boolean | undefined;

  /** Whether the partial index on flagged samples exists (the store schema makes it; a file from before it, opened read-only, may lack it). */
  flagIndex(): boolean {
    this.flagIndexKnown ??= this.s.hasIndex.get(FLAG_INDEX) !== undefined;
    return this.flagIndexKnown;
  }

  /** The rollups of the given hours only (night hours of a month, say). */
  hoursAt(sid: number, starts: readonly number[]): HourBucket[] {
    const rows = this.s.hoursAt.raw(true).all(sid, JSON.stringify(starts)) as [number, number, number, number, number, number][];
    return rows.map(([start, count, min, max, last, lastTs]) => ({ start, count, min, max, last, lastTs }));
  }

  events(types: readonly string[], from: number, to: number): EventRow[] {
    if (types.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT ts, device, class, type, attributes FROM events WHERE type IN (${types.map(() => '?').join(',')})
         AND ts >= ? AND ts < ? ORDER BY ts, seq`,
      )
      .all(...types, from, to) as (Omit<EventRow, 'attributes'> & { attributes: string })[];
    return rows.map((r) => ({ ...r, attributes: parseAttributes(r.attributes) }));
  }

  maxSeq(): { samples: number; events: number } {
    const s = this.s.maxSamples.get() as { seq: number } | undefined;
    const e = this.s.maxEvents.get() as { seq: number } | undefined;
    return { samples: s?.seq ?? 0, events: e?.seq ?? 0 };
  }

  /** Time span of rows written after the given positions (at most `limit` of each are looked at). */
  newData(after: { samples: number; events: number }, limit = 500_000): { lo: number | null; hi: number | null; samples: number; events: number } {
    const s = this.s.newSamples.get(after.samples, after.samples, limit) as { lo: number | null; hi: number | null; seq: number | null };
    const e = this.s.newEvents.get(after.events, limit) as { lo: number | null; hi: number | null; seq: number | null };
    const lows = [s.lo, e.lo].filter((x): x is number => x !== null);
    const highs = [s.hi, e.hi].filter((x): x is number => x !== null);
    return {
      lo: lows.length ? Math.min(...lows) : null,
      hi: highs.length ? Math.max(...highs) : null,
      samples: s.seq ?? after.samples,
      events: e.seq ?? after.events,
    };
  }
}

type StoredRow = Omit<RawRow, 'quality'> & { quality: number | Quality };

/** The quality code becomes its name in place (a month of raw rows: no second object per row). */
function decodeRow(r: StoredRow): RawRow {
  r.quality = decodeQuality(r.quality as number);
  return r as RawRow;
}

function parseTags(text: string): Record<string, string> {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, String(x)]));
    }
  } catch {
    /* a broken tags column is treated as no tags */
  }
  return {};
}

function parseAttributes(text: string): EventRow['attributes'] {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as EventRow['attributes'];
  } catch {
    /* an unreadable attribute blob matches nothing */
  }
  return {};
}

function prepareAll(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    devices: p('SELECT id, class, tags FROM devices'),
    seriesDevices: p('SELECT DISTINCT device, class FROM series'),
    raw: p(`SELECT ts, value, quality, reason FROM samples WHERE series_id = ? AND ts >= ? AND ts < ? AND ${USABLE} ORDER BY ts`),
    before: p(
      `SELECT ts, value, quality, reason FROM samples WHERE series_id = ? AND ts < ? AND ${USABLE} AND value IS NOT NULL ORDER BY ts DESC LIMIT 1`,
    ),
    atOrAfter: p(
      `SELECT ts, value, quality, reason FROM samples WHERE series_id = ? AND ts >= ? AND ${USABLE} AND value IS NOT NULL ORDER BY ts LIMIT 1`,
    ),
    recentTs: p('SELECT ts FROM samples WHERE series_id = ? AND ts < ? ORDER BY ts DESC LIMIT ?'),
    // A self-join on the next hour finds drops between hours (a window function costs ~8× more).
    chain: p(chainSql('')),
    chainSkip: p(chainSql('AND bucket NOT IN (SELECT value FROM json_each(@skip))')),
    // Each table's own min (through the view, min() would read the whole series), then the
    // aggregate min, which skips a table without the series (the two-argument min() would be null).
    oldest: p(
      'SELECT min(ts) AS ts FROM (SELECT min(ts) AS ts FROM samples_archive WHERE series_id = ? UNION ALL SELECT min(ts) FROM samples_recent WHERE series_id = ?)',
    ),
    hasIndex: p("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?"),
    // "quality = 1" must appear as such (a literal, as in the index) for SQLite to use the partial index.
    flagged: p(
      `SELECT count(*) AS n FROM samples WHERE series_id = ? AND ts >= ? AND ts < ? AND quality = ${QUALITY_CODE.uncertain} AND reason IN ('counter_reset', 'counter_rollover')`,
    ),
    crossDrops: p(
      `SELECT sum(CASE WHEN b.min < a.last - abs(a.last) * 1e-9 THEN 1 ELSE 0 END) AS n
       FROM rollup_1h a JOIN rollup_1h b ON b.series_id = a.series_id AND b.bucket = a.bucket + 3600000 AND b.bucket < @to
       WHERE a.series_id = @sid AND a.bucket >= @from AND a.bucket < @to`,
    ),
    chainFirst: p(
      `SELECT bucket, min FROM rollup_1h WHERE series_id = @sid AND bucket >= @from AND bucket < @to
         AND bucket NOT IN (SELECT value FROM json_each(@skip)) ORDER BY bucket LIMIT 1`,
    ),
    chainLast: p(
      `SELECT last, last_ts FROM rollup_1h WHERE series_id = @sid AND bucket >= @from AND bucket < @to
         AND bucket NOT IN (SELECT value FROM json_each(@skip)) ORDER BY bucket DESC LIMIT 1`,
    ),
    hoursAt: p(
      'SELECT bucket, count, min, max, last, last_ts FROM rollup_1h WHERE series_id = ? AND bucket IN (SELECT value FROM json_each(?)) ORDER BY bucket',
    ),
    hours: p(
      'SELECT bucket, count, min, max, last, last_ts FROM rollup_1h WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket',
    ),
    rollupCursor: p('SELECT samples FROM cursors WHERE consumer = ?'),
    maxSamples: p("SELECT seq FROM sqlite_sequence WHERE name = 'samples_recent'"),
    maxEvents: p("SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
    // NOT INDEXED: left alone, the planner scans the whole (series_id, ts) index instead of the seq range.
    // (On each table of the log: a view takes no NOT INDEXED.)
    dirty: p(
      `SELECT DISTINCT series_id AS sid, ts - ts % 3600000 AS hour FROM (
         SELECT series_id, ts FROM samples_archive NOT INDEXED WHERE seq > ?
         UNION ALL SELECT series_id, ts FROM samples_recent NOT INDEXED WHERE seq > ?)`,
    ),
    newSamples: p(
      `SELECT min(ts) AS lo, max(ts) AS hi, max(seq) AS seq FROM (
         SELECT ts, seq FROM samples_archive NOT INDEXED WHERE seq > ?
         UNION ALL SELECT ts, seq FROM samples_recent NOT INDEXED WHERE seq > ?
         ORDER BY seq LIMIT ?)`,
    ),
    newEvents: p('SELECT min(ts) AS lo, max(ts) AS hi, max(seq) AS seq FROM (SELECT ts, seq FROM events NOT INDEXED WHERE seq > ? ORDER BY seq LIMIT ?)'),
  };
}

function chainSql(skip: string): string {
  return `SELECT count(*) AS n,
      sum(CASE WHEN last < max - abs(max) * 1e-9 THEN 1 ELSE 0 END) AS suspicious,
      sum(CASE WHEN 3600000 - count * @iv <= @gap THEN 3600000 ELSE max(0, count * @iv) END) AS covered,
      max(count) AS max_count
    FROM rollup_1h WHERE series_id = @sid AND bucket >= @from AND bucket < @to ${skip}`;
}
