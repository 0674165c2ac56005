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
 * The common case, a sample never seen, costs one INSERT as before; only a conflict reads.
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

export class IdentityWriter {
  private readonly insertNew;
  private readonly storedAt;
  private readonly replace;
  private readonly insertEvent;

  constructor(db: Database.Database) {
    this.insertNew = db.prepare(
      'INSERT INTO samples (series_id, ts, value, quality, reason) VALUES (?, ?, ?, ?, ?) ON CONFLICT (series_id, ts) DO NOTHING',
    );
    this.storedAt = db.prepare('SELECT value, quality, reason FROM samples WHERE series_id = ? AND ts = ?');
    this.replace = db.prepare('INSERT OR REPLACE INTO samples (series_id, ts, value, quality, reason) VALUES (?, ?, ?, ?, ?)');
    this.insertEvent = db.prepare(
      'INSERT INTO events (ts, device, class, type, attributes) VALUES (?, ?, ?, ?, ?) ON CONFLICT (device, type, ts, attributes) DO NOTHING',
    );
  }

  sample(seriesId: number, s: Sample): SampleWrite {
    const value = encodeValue(s.value);
    const quality = encodeQuality(s.quality);
    const reason = s.reason ?? null;
    if (this.insertNew.run(seriesId, s.ts, value, quality, reason).changes > 0) return 'new';
    const old = this.storedAt.get(seriesId, s.ts) as { value: unknown; quality: number; reason: string | null } | undefined;
    if (old && same(old.value, value) && old.quality === quality && old.reason === reason) return 'duplicate';
    this.replace.run(seriesId, s.ts, value, quality, reason);
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
    for (const s of samples) {
      const sid = seriesOf(s);
      if (this.sample(sid, s) === 'duplicate') {
        out.samples++;
        copies.add(s);
        continue;
      }
      const prev = newest.get(sid);
      if (!prev || s.ts >= prev.ts) newest.set(sid, s);
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
