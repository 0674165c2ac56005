import { sql, type OwnedTables } from '../store/owned-tables.js';
import type { Store } from '../store/store.js';
import type { TargetStatus } from './targets.js';

/**
 * The KPI module's own tables in the store file, owned through the store (Store.ownTables):
 * per-target state (so hysteresis and active alerts survive a restart), per-window verdicts (so
 * late data can revise a closed window), the alerts themselves, and the module's read position
 * in the sample log. The store checks that these statements name only these tables.
 */

const SCHEMA = `
CREATE TABLE IF NOT EXISTS kpi_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS kpi_targets (
  target TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  known TEXT,
  active_alert INTEGER,
  updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS kpi_windows (
  target TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  status TEXT NOT NULL,
  value REAL,
  coverage REAL NOT NULL,
  reason TEXT,
  final INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (target, window_start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  target TEXT NOT NULL,
  kpi TEXT NOT NULL,
  win TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  window_end INTEGER NOT NULL,
  scope TEXT NOT NULL,
  status TEXT NOT NULL,
  previous TEXT,
  value REAL,
  coverage REAL NOT NULL,
  bound TEXT NOT NULL,
  reason TEXT,
  revised INTEGER NOT NULL DEFAULT 0,
  active INTEGER NOT NULL,
  cleared_at INTEGER
);
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts);
`;

export interface TargetState {
  target: string;
  status: TargetStatus;
  /** Last met/missed status (hysteresis works from it across unknown spells). */
  known: TargetStatus | null;
  activeAlert: number | null;
}

export interface WindowVerdict {
  target: string;
  windowStart: number;
  windowEnd: number;
  status: TargetStatus;
  value: number | null;
  coverage: number;
  reason: string | null;
  final: boolean;
}

export interface AlertRow {
  id: number;
  ts: number;
  target: string;
  kpi: string;
  win: string;
  window_start: number;
  window_end: number;
  scope: string;
  status: TargetStatus;
  previous: string | null;
  value: number | null;
  coverage: number;
  bound: string;
  reason: string | null;
  revised: number;
  active: number;
  cleared_at: number | null;
}

export type NewAlert = Omit<AlertRow, 'id' | 'cleared_at'>;

type TargetRow = { target: string; status: TargetStatus; known: TargetStatus | null; active_alert: number | null };
type WindowRow = { target: string; window_start: number; window_end: number; status: TargetStatus; value: number | null; coverage: number; reason: string | null; final: number };

const STATEMENTS = {
  getMeta: sql<{ value: string }>('SELECT value FROM kpi_meta WHERE key = ?'),
  setMeta: sql('INSERT INTO kpi_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
  getTarget: sql<TargetRow>('SELECT target, status, known, active_alert FROM kpi_targets WHERE target = ?'),
  putTarget: sql(
    `INSERT INTO kpi_targets (target, status, known, active_alert, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (target) DO UPDATE SET status = excluded.status, known = excluded.known,
       active_alert = excluded.active_alert, updated_at = excluded.updated_at`,
  ),
  getWindow: sql<WindowRow>('SELECT * FROM kpi_windows WHERE target = ? AND window_start = ?'),
  putWindow: sql(
    `INSERT INTO kpi_windows (target, window_start, window_end, status, value, coverage, reason, final, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (target, window_start) DO UPDATE SET window_end = excluded.window_end, status = excluded.status,
       value = excluded.value, coverage = excluded.coverage, reason = excluded.reason, final = excluded.final,
       updated_at = excluded.updated_at`,
  ),
  insertAlert: sql(
    `INSERT INTO alerts (ts, target, kpi, win, window_start, window_end, scope, status, previous, value, coverage, bound, reason, revised, active)
     VALUES (@ts, @target, @kpi, @win, @window_start, @window_end, @scope, @status, @previous, @value, @coverage, @bound, @reason, @revised, @active)`,
  ),
  clearAlert: sql('UPDATE alerts SET active = 0, cleared_at = ?, status = ? WHERE id = ? AND active = 1'),
  retireAlert: sql("UPDATE alerts SET active = 0, cleared_at = ?, reason = 'target_removed' WHERE id = ? AND active = 1"),
  alert: sql<AlertRow>('SELECT * FROM alerts WHERE id = ?'),
  recent: sql<AlertRow>('SELECT * FROM alerts ORDER BY id DESC LIMIT ?'),
  active: sql<AlertRow>('SELECT * FROM alerts WHERE active = 1 ORDER BY id'),
  pruneAlerts: sql('DELETE FROM alerts WHERE ts < ? AND active = 0'),
  pruneWindows: sql('DELETE FROM kpi_windows WHERE window_end < ? AND final = 1'),
};

export class KpiStateDb {
  private readonly tables: OwnedTables<typeof STATEMENTS>;
  private readonly s;

  constructor(store: Pick<Store, 'ownTables'>) {
    this.tables = store.ownTables({ owner: 'kpi', tables: ['kpi_meta', 'kpi_targets', 'kpi_windows', 'alerts'], schema: SCHEMA, statements: STATEMENTS });
    this.s = this.tables.statements;
  }

  meta(key: string): string | undefined {
    return this.s.getMeta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.s.setMeta.run(key, value);
  }

  target(key: string): TargetState | undefined {
    const r = this.s.getTarget.get(key);
    return r ? { target: r.target, status: r.status, known: r.known, activeAlert: r.active_alert } : undefined;
  }

  putTarget(t: TargetState, now: number): void {
    this.s.putTarget.run(t.target, t.status, t.known, t.activeAlert, now);
  }

  window(target: string, start: number): WindowVerdict | undefined {
    const r = this.s.getWindow.get(target, start);
    if (!r) return undefined;
    return { target: r.target, windowStart: r.window_start, windowEnd: r.window_end, status: r.status, value: r.value, coverage: r.coverage, reason: r.reason, final: r.final === 1 };
  }

  putWindow(v: WindowVerdict, now: number): void {
    this.s.putWindow.run(v.target, v.windowStart, v.windowEnd, v.status, v.value, v.coverage, v.reason, v.final ? 1 : 0, now);
  }

  insertAlert(a: NewAlert): number {
    return this.s.insertAlert.run(a).lastInsertRowid;
  }

  /** Retire an active alert; its status becomes the one that cleared it. */
  clearAlert(id: number, now: number, status: TargetStatus): void {
    this.s.clearAlert.run(now, status, id);
  }

  /** An active alert whose target is no longer configured: closed as it stands, with that reason. */
  retireAlert(id: number, now: number): void {
    this.s.retireAlert.run(now, id);
  }

  alert(id: number): AlertRow | undefined {
    return this.s.alert.get(id);
  }

  recent(limit: number): AlertRow[] {
    return this.s.recent.all(limit);
  }

  active(): AlertRow[] {
    return this.s.active.all();
  }

  /** Forget inactive alerts and final verdicts older than `before` (the store's event retention). */
  prune(before: number): number {
    return this.s.pruneAlerts.run(before).changes + this.s.pruneWindows.run(before).changes;
  }

  transaction<T>(fn: () => T): T {
    return this.tables.transaction(fn);
  }
}
