import type Database from 'better-sqlite3';
import type { SinkItem } from './types.js';

export interface DeadLetter {
  sink: string;
  log: 'samples' | 'events';
  seq: number;
  ts: number;
  payload: string;
  status: number | null;
  reason: string;
  at: number;
}

/** Newest dead letters kept per sink; older ones are pruned so a misconfigured sink cannot fill the disk. */
const KEEP_PER_SINK = 100_000;

/**
 * Records a sink's remote end refused for good (field type conflict, unparseable point…), with
 * the reason, in a table of the store's file. Keyed by (sink, log, seq): a batch retried after
 * a network error dead-letters the same record once.
 */
export class DeadLetters {
  private readonly insert: Database.Statement;
  private readonly countStmt: Database.Statement;
  private inserted = 0;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS sink_dead_letters (
      sink TEXT NOT NULL, log TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
      payload TEXT NOT NULL, status INTEGER, reason TEXT NOT NULL, at INTEGER NOT NULL,
      PRIMARY KEY (sink, log, seq)
    )`);
    this.insert = db.prepare(
      'INSERT OR REPLACE INTO sink_dead_letters (sink, log, seq, ts, payload, status, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.countStmt = db.prepare('SELECT count(*) AS n FROM sink_dead_letters WHERE sink = ?');
  }

  add(sink: string, item: SinkItem, payload: string, reason: string, status: number | undefined, at: number): void {
    this.insert.run(sink, item.log, item.record.seq, item.record.ts, payload, status ?? null, reason.slice(0, 2000), at);
    if (++this.inserted % 1000 === 0) this.prune(sink);
  }

  count(sink: string): number {
    return (this.countStmt.get(sink) as { n: number }).n;
  }

  list(sink?: string, limit = 100): DeadLetter[] {
    const sql = `SELECT sink, log, seq, ts, payload, status, reason, at FROM sink_dead_letters
      ${sink === undefined ? '' : 'WHERE sink = ?'} ORDER BY at DESC, seq DESC LIMIT ?`;
    const args = sink === undefined ? [limit] : [sink, limit];
    return this.db.prepare(sql).all(...args) as DeadLetter[];
  }

  private prune(sink: string): void {
    this.db
      .prepare(
        `DELETE FROM sink_dead_letters WHERE sink = ? AND rowid NOT IN
         (SELECT rowid FROM sink_dead_letters WHERE sink = ? ORDER BY at DESC LIMIT ?)`,
      )
      .run(sink, sink, KEEP_PER_SINK);
  }
}
