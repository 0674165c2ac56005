import type Database from 'better-sqlite3';
import type { GatewayEvent, Sample } from '../model/types.js';
import { encodeQuality, encodeValue } from './codec.js';

/**
 * Writes by identity, not by order: late data is stored at its own time, and a copy of what is
 * already there (a replayed batch, a redelivery after a restart, a LoRaWAN meter's overlapping
 * hourly windows) is stored once and counted.
 *
 * - A sample is its series and timestamp. The same value, quality and reason again is a
 *   duplicate: nothing is written, the sample log gets no new row, so sinks and rollups do not
 *   see it twice. A different value at the same time is a correction: it replaces the old row
 *   under a new log position (sinks forward it; their writes are idempotent by series and time).
 * - An event is its device, type, timestamp and attributes (its key among them: request_id,
 *   parcel, a LoRaWAN frame's identity); the unique index `events_identity` keeps one.
 *
 * The common case, samples never seen, costs one INSERT per 32 of them; only a conflict reads.
 */
export interface WriteOutcome {
  /** Samples already stored with the same value, quality and reason. */
  samples: number;
  /** Events already stored. */
  events: number;
  /** The copies themselves (the caller's objects), so counters and live listeners can leave them out. */
  copies?: ReadonlySet<Sample | GatewayEvent>;
}

export type SampleWrite = 'new' | 'duplicate' | 'replaced';

interface StoredRow {
  value: unknown;
  quality: number;
  reason: string | null;
}

/** Samples inserted by one statement on the common path (5 bound values each). */
const CHUNK = 32;

export class IdentityWriter {
  private readonly insertNew;
  private readonly insertChunk;
  private readonly stored;
  private readonly lastSeq;
  private readonly args: (number | string | null)[] = new Array<number | string | null>(CHUNK * 5);
  private readonly replace: (seriesId: number, ts: number, value: number | string | null, quality: number, reason: string | null) => void;
  private readonly insertEvent;

  constructor(db: Database.Database) {
    // New samples go to the recent table unless the archive has their series and time already
    // (schema.ts: why the log is two tables); the recent table's own index refuses the rest.
    const insertInto = (n: number) =>
      `INSERT INTO samples_recent (series_id, ts, value, quality, reason)
       SELECT * FROM (VALUES ${Array<string>(n).fill('(?, ?, ?, ?, ?)').join(', ')}) v
       WHERE NOT EXISTS (SELECT 1 FROM samples_archive a WHERE a.series_id = v.column1 AND a.ts = v.column2)
       ON CONFLICT (series_id, ts) DO NOTHING`;
    this.insertNew = db.prepare(insertInto(1));
    this.insertChunk = db.prepare(insertInto(CHUNK));
    this.stored = db.prepare('SELECT seq, value, quality, reason FROM samples WHERE series_id = ? AND ts = ?');
    this.lastSeq = db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'samples_recent'").pluck();
    // A replacement takes a new log position: out of the archive, into the recent table.
    const unarchive = db.prepare('DELETE FROM samples_archive WHERE series_id = ? AND ts = ?');
    const insertRecent = db.prepare('INSERT OR REPLACE INTO samples_recent (series_id, ts, value, quality, reason) VALUES (?, ?, ?, ?, ?)');
    this.replace = (seriesId: number, ts: number, value: number | string | null, quality: number, reason: string | null) => {
      unarchive.run(seriesId, ts);
      insertRecent.run(seriesId, ts, value, quality, reason);
    };
    this.insertEvent = db.prepare(
      'INSERT INTO events (ts, device, class, type, attributes) VALUES (?, ?, ?, ?, ?) ON CONFLICT (device, type, ts, attributes) DO NOTHING',
    );
  }

  sample(seriesId: number, s: Sample): SampleWrite {
    const value = encodeValue(s.value);
    const quality = encodeQuality(s.quality);
    const reason = s.reason ?? null;
    if (this.insertNew.run(seriesId, s.ts, value, quality, reason).changes > 0) return 'new';
    return this.judge(seriesId, s, this.stored.get(seriesId, s.ts) as StoredRow | undefined);
  }

  /** A sample whose series and time are taken: the same value, quality and reason is a copy; another replaces it. */
  private judge(seriesId: number, s: Sample, old: StoredRow | undefined): 'duplicate' | 'replaced' {
    const value = encodeValue(s.value);
    const quality = encodeQuality(s.quality);
    const reason = s.reason ?? null;
    if (old && same(old.value, value) && old.quality === quality && old.reason === reason) return 'duplicate';
    this.replace(seriesId, s.ts, value, quality, reason);
    return 'replaced';
  }

  /**
   * A batch, inside the caller's transaction: each sample by identity, the newest of each series
   * that changed handed to `latest`, each event once; copies counted and returned.
   */
  write(samples: readonly Sample[], events: readonly GatewayEvent[], seriesOf: (s: Sample) => number, latest: (seriesId: number, s: Sample) => void): WriteOutcome {
    const out: WriteOutcome = { samples: 0, events: 0 };
    const copies = new Set<Sample | GatewayEvent>();
    const newest = new Map<number, Sample>();
    const stored = (sid: number, s: Sample, how: SampleWrite) => {
      if (how === 'duplicate') {
        out.samples++;
        copies.add(s);
        return;
      }
      const prev = newest.get(sid);
      if (!prev || s.ts >= prev.ts) newest.set(sid, s);
    };
    const sids = new Array<number>(CHUNK);
    let i = 0;
    // Whole chunks in one statement each: where every row is new (the common case) that is all.
    for (; i + CHUNK <= samples.length; i += CHUNK) {
      const a = this.args;
      for (let j = 0; j < CHUNK; j++) {
        const s = samples[i + j] as Sample;
        const sid = seriesOf(s);
        sids[j] = sid;
        a[j * 5] = sid;
        a[j * 5 + 1] = s.ts;
        a[j * 5 + 2] = encodeValue(s.value);
        a[j * 5 + 3] = encodeQuality(s.quality);
        a[j * 5 + 4] = s.reason ?? null;
      }
      const before = (this.lastSeq.get() as number | undefined) ?? 0;
      const r = this.insertChunk.run(a);
      if (r.changes === CHUNK) {
        for (let j = 0; j < CHUNK; j++) stored(sids[j] as number, samples[i + j] as Sample, 'new');
        continue;
      }
      // Some rows were there already. The rows this statement inserted have log positions past
      // the largest one before it (AUTOINCREMENT; a refused row may use one up, so they need not
      // be consecutive); every other stored row is older.
      const firstNew = before + 1;
      const seen = new Set<string>();
      for (let j = 0; j < CHUNK; j++) {
        const s = samples[i + j] as Sample;
        const sid = sids[j] as number;
        const key = `${sid}:${s.ts}`;
        const row = this.stored.get(sid, s.ts) as (StoredRow & { seq: number }) | undefined;
        // This statement's own row, met first: this sample is it. Otherwise the row stored before
        // it (earlier, or an earlier sample of this chunk) is judged as sample() judges it.
        if (row && row.seq >= firstNew && !seen.has(key)) {
          seen.add(key);
          stored(sid, s, 'new');
          continue;
        }
        seen.add(key);
        stored(sid, s, this.judge(sid, s, row));
      }
    }
    for (; i < samples.length; i++) {
      const s = samples[i] as Sample;
      const sid = seriesOf(s);
      stored(sid, s, this.sample(sid, s));
    }
    for (const [sid, s] of newest) latest(sid, s);
    for (const e of events) {
      if (this.event(e)) continue;
      out.events++;
      copies.add(e);
    }
    if (copies.size) out.copies = copies;
    return out;
  }

  /** True when the event was new, false when the same event was already stored. */
  event(e: GatewayEvent): boolean {
    return this.insertEvent.run(e.ts, e.device, e.class, e.type, JSON.stringify(e.attributes)).changes > 0;
  }
}

/** SQLite hands integers back as numbers (or bigints past 2^53); a REAL column keeps a double exactly. */
function same(stored: unknown, value: number | string | null): boolean {
  if (typeof stored === 'bigint') return typeof value === 'number' && BigInt(Math.trunc(value)) === stored && Number.isInteger(value);
  return stored === value;
}
