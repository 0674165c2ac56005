import type Database from 'better-sqlite3';

/**
 * For the KPI engine's re-judging: the starts (retrieval requested, parcel arrived) that newly
 * stored completions pair with by their key. A completion that arrives late may fall in a
 * window still running while its start lies in one already closed: that closed window's verdict
 * depends on it, so it is judged again. Starts are looked for up to `horizonMs` before each
 * completion (the KPIs' own completion horizon).
 */
export interface Pairing {
  start: readonly string[];
  end: readonly string[];
  key: string;
}

export class LatePairs {
  /** One prepared statement per pairing (the SQL depends only on it; the KPI engine asks every pass). */
  private readonly statements = new Map<Pairing, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** Times of the starts (distinct, at most `max`, oldest first) that completions stored after `afterSeq` pair with. */
  starts(afterSeq: number, p: Pairing, horizonMs: number, limit = 10_000, max = 1_000): number[] {
    const rows = this.statement(p).all(afterSeq, ...p.end, limit, horizonMs, ...p.start, max) as { ts: number }[];
    return rows.map((r) => r.ts);
  }

  private statement(p: Pairing): Database.Statement {
    let stmt = this.statements.get(p);
    if (stmt) return stmt;
    const ends = p.end.map(() => '?').join(', ');
    const starts = p.start.map(() => '?').join(', ');
    // The key path is a catalog attribute name (letters, digits, underscore), never input.
    if (!/^\w+$/.test(p.key)) throw new Error(`bad pairing key ${p.key}`);
    stmt = this.db.prepare(
      `SELECT DISTINCT s.ts AS ts FROM (SELECT ts, attributes FROM events WHERE seq > ? AND type IN (${ends}) ORDER BY seq LIMIT ?) e
       JOIN events s ON s.ts <= e.ts AND s.ts >= e.ts - ? AND s.type IN (${starts})
         AND json_extract(s.attributes, '$.${p.key}') = json_extract(e.attributes, '$.${p.key}')
       ORDER BY s.ts LIMIT ?`,
    );
    this.statements.set(p, stmt);
    return stmt;
  }
}
