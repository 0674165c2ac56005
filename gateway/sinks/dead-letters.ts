import { sql, type OwnedTables } from '../store/owned-tables.js';
import type { Store } from '../store/store.js';
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

const SCHEMA = `CREATE TABLE IF NOT EXISTS sink_dead_letters (
  sink TEXT NOT NULL, log TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL,
  payload TEXT NOT NULL, status INTEGER, reason TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (sink, log, seq)
)`;

const COLUMNS = 'sink, log, seq, ts, payload, status, reason, at';
const STATEMENTS = {
  insert: sql(`INSERT OR REPLACE INTO sink_dead_letters (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
  count: sql<{ n: number }>('SELECT count(*) AS n FROM sink_dead_letters WHERE sink = ?'),
  listAll: sql<DeadLetter>(`SELECT ${COLUMNS} FROM sink_dead_letters ORDER BY at DESC, seq DESC LIMIT ?`),
  listSink: sql<DeadLetter>(`SELECT ${COLUMNS} FROM sink_dead_letters WHERE sink = ? ORDER BY at DESC, seq DESC LIMIT ?`),
  prune: sql(
    `DELETE FROM sink_dead_letters WHERE sink = ? AND rowid NOT IN
     (SELECT rowid FROM sink_dead_letters WHERE sink = ? ORDER BY at DESC LIMIT ?)`,
  ),
};

/**
 * Records a sink's remote end refused for good (field type conflict, unparseable point…), with
 * the reason, in a table of the store's file that the sinks own through the store. Keyed by
 * (sink, log, seq): a batch retried after a network error dead-letters the same record once.
 */
export class DeadLetters {
  private readonly s: OwnedTables<typeof STATEMENTS>['statements'];
  private inserted = 0;

  constructor(store: Pick<Store, 'ownTables'>) {
    this.s = store.ownTables({ owner: 'sinks', tables: ['sink_dead_letters'], schema: SCHEMA, statements: STATEMENTS }).statements;
  }

  add(sink: string, item: SinkItem, payload: string, reason: string, status: number | undefined, at: number): void {
    this.s.insert.run(sink, item.log, item.record.seq, item.record.ts, payload, status ?? null, reason.slice(0, 2000), at);
    if (++this.inserted % 1000 === 0) this.s.prune.run(sink, sink, KEEP_PER_SINK);
  }

  count(sink: string): number {
    return this.s.count.get(sink)?.n ?? 0;
  }

  list(sink?: string, limit = 100): DeadLetter[] {
    return sink === undefined ? this.s.listAll.all(limit) : this.s.listSink.all(sink, limit);
  }
}
