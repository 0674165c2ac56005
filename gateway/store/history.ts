import type Database from 'better-sqlite3';
import type { SeriesInfo } from './core.js';
import { QUALITY_CODE } from './schema.js';

/**
 * A series' stored neighbours in time, for the pipeline's counter check: a late counter reading
 * is compared with the reading before it in time, not with the newest (counters.ts).
 */
export class SeriesHistory {
  private readonly stmtBefore;

  constructor(
    db: Database.Database,
    private readonly series: (device: string, metric: string) => SeriesInfo | undefined,
  ) {
    // The newest usable value strictly before ts (bad samples carry no value a counter continues from).
    this.stmtBefore = db.prepare(`SELECT ts, value FROM samples WHERE series_id = ? AND ts < ? AND quality < ${QUALITY_CODE.bad} AND value IS NOT NULL ORDER BY ts DESC LIMIT 1`);
  }

  before(device: string, metric: string, ts: number): { ts: number; value: number } | undefined {
    const info = this.series(device, metric);
    if (!info) return undefined;
    const row = this.stmtBefore.get(info.id, ts) as { ts: number; value: unknown } | undefined;
    if (!row || (typeof row.value !== 'number' && typeof row.value !== 'bigint')) return undefined;
    return { ts: row.ts, value: Number(row.value) };
  }
}
