import type Database from 'better-sqlite3';
import { FOLD_MS, FOLD_ROWS } from './schema.js';

/**
 * When the sample log's recent table is folded into its archive (schema.ts says why the log is
 * two tables): every FOLD_ROWS samples, or FOLD_MS after the first one waiting, inside the commit
 * that reaches it; or when asked (retention, tests).
 */
export class LogFold {
  /** Samples in samples_recent (an upper bound: a replacement there is counted again), and since when. */
  private rows: number;
  private since: number;
  private readonly tx: () => void;
  /** Folds since the store opened. */
  folds = 0;

  constructor(db: Database.Database, now: number) {
    // In log order: the archive's table grows at its end. Its index takes each series' page once
    // per fold whatever the order (a scratch bench put (series, time) order 4–7 % dearer).
    const move = db.prepare(
      `INSERT OR REPLACE INTO samples_archive (seq, series_id, ts, value, quality, reason)
       SELECT seq, series_id, ts, value, quality, reason FROM samples_recent ORDER BY seq`,
    );
    const clear = db.prepare('DELETE FROM samples_recent');
    this.tx = db.transaction(() => {
      move.run();
      clear.run();
      this.rows = 0;
      this.folds++;
    });
    this.rows = db.prepare('SELECT count(*) FROM samples_recent').pluck().get() as number;
    this.since = now;
  }

  /** A commit (inside its transaction) may have added `added` rows at `now`: fold if that makes it due. */
  committed(added: number, now: number): void {
    if (added > 0 && this.rows === 0) this.since = now;
    this.rows += added;
    if (this.rows >= FOLD_ROWS || (this.rows > 0 && now - this.since >= FOLD_MS)) this.tx();
  }

  /** Fold now, in one transaction (joining the caller's, if any). */
  now(): void {
    this.tx();
  }
}
