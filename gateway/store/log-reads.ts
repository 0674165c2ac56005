import type Database from 'better-sqlite3';
import type { GatewayEvent, Sample } from '../model/types.js';
import { decodeQuality, decodeStored } from './codec.js';
import type { SeriesInfo } from './core.js';

export type StoredSample = Sample & { seq: number };
export type StoredEvent = GatewayEvent & { seq: number };

/** The logs read in order after a position: what the sinks and the rollups consume. */
export class LogReads {
  private readonly samples;
  private readonly events;

  constructor(
    db: Database.Database,
    private readonly site: string,
    private readonly seriesById: ReadonlyMap<number, SeriesInfo>,
  ) {
    this.samples = db.prepare('SELECT seq, series_id, ts, value, quality, reason FROM samples WHERE seq > ? ORDER BY seq LIMIT ?').raw(true);
    this.events = db.prepare('SELECT seq, ts, device, class, type, attributes FROM events WHERE seq > ? ORDER BY seq LIMIT ?');
  }

  samplesAfter(seq: number, limit: number): StoredSample[] {
    // Rows as arrays (no column-name objects), the value decoded by the series' own codec: the
    // sinks read their whole backlog through here.
    const rows = this.samples.all(seq, limit) as [seq: number, series: number, ts: number, value: unknown, quality: number, reason: string | null][];
    const out: StoredSample[] = new Array<StoredSample>(rows.length);
    let n = 0;
    for (const r of rows) {
      const info = this.seriesById.get(r[1]);
      if (!info) continue;
      const s: StoredSample = {
        seq: r[0],
        site: this.site,
        device: info.device,
        class: info.cls,
        metric: info.metric,
        ts: r[2],
        value: decodeStored(info.bool === true, r[3]),
        quality: decodeQuality(r[4]),
      };
      if (r[5] !== null) s.reason = r[5];
      out[n++] = s;
    }
    out.length = n;
    return out;
  }

  eventsAfter(seq: number, limit: number): StoredEvent[] {
    const rows = this.events.all(seq, limit) as {
      seq: number;
      ts: number;
      device: string;
      class: string;
      type: string;
      attributes: string;
    }[];
    return rows.map((r) => ({
      seq: r.seq,
      site: this.site,
      ts: r.ts,
      device: r.device,
      class: r.class,
      type: r.type,
      attributes: JSON.parse(r.attributes) as GatewayEvent['attributes'],
    }));
  }
}
