import { sql, type OwnedTables } from '../store/owned-tables.js';
import type { Store } from '../store/store.js';
import type { TargetStatus } from './targets.js';

/**
 * What leaves the gateway about its KPIs (gateway/kpi/northbound.ts writes it, every sink reads
 * it: gateway/sinks/kpi-export.ts). A record is written once, with its timestamp fixed, so a
 * resend after a crash or an outage is the same point (same series, same timestamp) and lands
 * once: the district side stays exact however often the WAN drops.
 */
export type NorthboundRecord = KpiPoint | AlertPoint | SiteIdentity;

/** What a KPI point and an alert share: the series (site, kpi, window, scope), its window and verdict. */
interface KpiSeriesPoint {
  site: string;
  kpi: string;
  window: string;
  /** `site`, `device=ID` or `K=V` for a tag (gateway/kpi/targets.ts scopeText). */
  scope: string;
  ts: number;
  start: number;
  end: number;
  value: number | null;
  coverage: number;
  status: TargetStatus;
}

/** One KPI of one window; `ts` is when a running window was judged, or a closed one's end − 1 ms (inside it, after every running point). */
export interface KpiPoint extends KpiSeriesPoint {
  kind: 'kpi';
  closed: boolean;
  unit: string;
  reason?: string;
  target_min?: number;
  target_max?: number;
}

/** An alert raised or cleared (gateway/kpi/alerts.ts), as it happened. */
export interface AlertPoint extends KpiSeriesPoint {
  kind: 'alert';
  id: number;
  active: boolean;
  bound: string;
  message: string;
}

/** Who the community is: a district view groups and normalises by this. */
export interface SiteIdentity {
  kind: 'site';
  site: string;
  ts: number;
  name?: string;
  district?: string;
  residents?: number;
  households?: number;
  latitude: number;
  longitude: number;
  timezone: string;
}

export interface OutboxRow {
  seq: number;
  record: NorthboundRecord;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kpi_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kpi_outbox_cursors (consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS kpi_outbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

const STATEMENTS = {
  append: sql('INSERT INTO kpi_outbox (ts, body) VALUES (?, ?)'),
  after: sql<{ seq: number; body: string }>('SELECT seq, body FROM kpi_outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
  maxSeq: sql<{ seq: number | null }>('SELECT max(seq) AS seq FROM kpi_outbox'),
  getCursor: sql<{ seq: number }>('SELECT seq FROM kpi_outbox_cursors WHERE consumer = ?'),
  setCursor: sql('INSERT INTO kpi_outbox_cursors (consumer, seq) VALUES (?, ?) ON CONFLICT(consumer) DO UPDATE SET seq = excluded.seq'),
  cursors: sql<{ consumer: string; seq: number }>('SELECT consumer, seq FROM kpi_outbox_cursors'),
  prune: sql('DELETE FROM kpi_outbox WHERE seq <= ? AND ts < ?'),
  getMeta: sql<{ value: string }>('SELECT value FROM kpi_outbox_meta WHERE key = ?'),
  setMeta: sql('INSERT INTO kpi_outbox_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
};

/**
 * The northbound KPI log: records in order, and per sink a durable cursor, in the store's file
 * (owned through the store). Like the sample log it is the outbox: a sink that is down falls
 * behind and catches up from its cursor; pruning never passes a cursor.
 */
export class KpiOutbox {
  private readonly t: OwnedTables<typeof STATEMENTS>;
  private readonly listeners: (() => void)[] = [];

  constructor(store: Pick<Store, 'ownTables'>) {
    this.t = store.ownTables({ owner: 'kpi-northbound', tables: ['kpi_outbox', 'kpi_outbox_cursors', 'kpi_outbox_meta'], schema: SCHEMA, statements: STATEMENTS });
  }

  /** Records and what the writer remembers about them (`meta`), in one transaction. */
  append(records: readonly NorthboundRecord[], meta?: ReadonlyMap<string, string>): void {
    if (records.length === 0 && !meta?.size) return;
    this.t.transaction(() => {
      for (const r of records) this.t.statements.append.run(r.ts, JSON.stringify(r));
      for (const [k, v] of meta ?? []) this.t.statements.setMeta.run(k, v);
    });
    if (records.length) for (const l of this.listeners) l();
  }

  /** Called after every append (a sink wakes and sends at once). */
  onAppend(fn: () => void): () => void {
    this.listeners.push(fn);
    return () => {
      const i = this.listeners.indexOf(fn);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  after(seq: number, limit: number): OutboxRow[] {
    return this.t.statements.after.all(seq, limit).map((r) => ({ seq: r.seq, record: JSON.parse(r.body) as NorthboundRecord }));
  }

  maxSeq(): number {
    return this.t.statements.maxSeq.get()?.seq ?? 0;
  }

  cursor(consumer: string): number | undefined {
    return this.t.statements.getCursor.get(consumer)?.seq;
  }

  setCursor(consumer: string, seq: number): void {
    this.t.statements.setCursor.run(consumer, seq);
  }

  /** Drop records every cursor has passed and older than `before` (a record no sink has sent is kept). */
  prune(before: number): number {
    const cursors = this.t.statements.cursors.all();
    const passed = cursors.length ? Math.min(...cursors.map((c) => c.seq)) : this.maxSeq();
    return this.t.statements.prune.run(passed, before).changes;
  }

  meta(key: string): string | undefined {
    return this.t.statements.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.t.statements.setMeta.run(key, value);
  }
}
