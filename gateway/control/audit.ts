import { sql, type OwnedTables } from '../store/owned-tables.js';
import type { Store } from '../store/store.js';

/**
 * The audit log of commands: the control module's own table in the store file (Store.ownTables).
 * A row is written (and committed, WAL: it survives a kill -9) before the command goes to the
 * device, and completed after the read-back, so a crash in between leaves a `pending` row that
 * the next start closes as failed. Rows are kept as long as the longest-kept data about the
 * device (raw samples, rollups, events), so retention never removes an audit row before the
 * data it concerns.
 */

export type AuditStatus = 'pending' | 'succeeded' | 'failed' | 'refused' | 'dry_run';

export interface AuditRow {
  id: number;
  ts: number;
  device: string;
  command: string;
  value: string;
  caller: string;
  origin: string;
  why: string | null;
  idempotency_key: string | null;
  request_hash: string | null;
  dry_run: number;
  status: AuditStatus;
  code: string | null;
  reason: string | null;
  read_back: string | null;
  finished_ts: number | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS control_audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  device TEXT NOT NULL,
  command TEXT NOT NULL,
  value TEXT NOT NULL,
  caller TEXT NOT NULL,
  origin TEXT NOT NULL,
  why TEXT,
  idempotency_key TEXT,
  request_hash TEXT,
  dry_run INTEGER NOT NULL,
  status TEXT NOT NULL,
  code TEXT,
  reason TEXT,
  read_back TEXT,
  finished_ts INTEGER
);
CREATE UNIQUE INDEX IF NOT EXISTS control_audit_key ON control_audit (caller, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS control_audit_ts ON control_audit (ts);
CREATE INDEX IF NOT EXISTS control_audit_device ON control_audit (device, command, status, ts);
`;

const STATEMENTS = {
  insert: sql(
    `INSERT INTO control_audit (ts, device, command, value, caller, origin, why, idempotency_key, request_hash, dry_run, status, code, reason, read_back, finished_ts)
     VALUES (@ts, @device, @command, @value, @caller, @origin, @why, @idempotency_key, @request_hash, @dry_run, @status, @code, @reason, @read_back, @finished_ts)`,
  ),
  finish: sql('UPDATE control_audit SET status = ?, code = ?, reason = ?, read_back = ?, finished_ts = ? WHERE id = ?'),
  byId: sql<AuditRow>('SELECT * FROM control_audit WHERE id = ?'),
  byKey: sql<AuditRow>('SELECT * FROM control_audit WHERE caller = ? AND idempotency_key = ?'),
  /** The last change a device accepted for a command (dwell). */
  lastChange: sql<AuditRow>(`SELECT * FROM control_audit WHERE device = ? AND command = ? AND status = 'succeeded' ORDER BY ts DESC, id DESC LIMIT 1`),
  list: sql<AuditRow>('SELECT * FROM control_audit WHERE (@device IS NULL OR device = @device) AND ts >= @since AND ts < @until ORDER BY id DESC LIMIT @limit'),
  closePending: sql(`UPDATE control_audit SET status = 'failed', code = 'INTERRUPTED', reason = ?, finished_ts = ? WHERE status = 'pending'`),
  pendingIds: sql<{ id: number }>(`SELECT id FROM control_audit WHERE status = 'pending'`),
  prune: sql('DELETE FROM control_audit WHERE ts < ?'),
};

export type NewAuditRow = Omit<AuditRow, 'id'>;

export class AuditLog {
  private readonly tables: OwnedTables<typeof STATEMENTS>;

  constructor(store: Pick<Store, 'ownTables'>) {
    this.tables = store.ownTables({ owner: 'control', tables: ['control_audit'], schema: SCHEMA, statements: STATEMENTS });
  }

  private get s() {
    return this.tables.statements;
  }

  insert(row: NewAuditRow): number {
    return this.s.insert.run(row).lastInsertRowid;
  }

  finish(id: number, status: AuditStatus, f: { code?: string; reason?: string; readBack?: unknown }, ts: number): void {
    this.s.finish.run(status, f.code ?? null, f.reason ?? null, f.readBack === undefined ? null : JSON.stringify(f.readBack), ts, id);
  }

  get(id: number): AuditRow | undefined {
    return this.s.byId.get(id);
  }

  byKey(caller: string, key: string): AuditRow | undefined {
    return this.s.byKey.get(caller, key);
  }

  lastChange(device: string, command: string): AuditRow | undefined {
    return this.s.lastChange.get(device, command);
  }

  list(q: { device?: string; from?: number; to?: number; limit?: number }): AuditRow[] {
    return this.s.list.all({ device: q.device ?? null, since: q.from ?? 0, until: q.to ?? Number.MAX_SAFE_INTEGER, limit: Math.min(q.limit ?? 100, 1000) });
  }

  /** Rows a crash left pending: failed, since nobody saw the read-back. Returns their ids. */
  closeInterrupted(ts: number): number[] {
    return this.tables.transaction(() => {
      const ids = this.s.pendingIds.all().map((r) => r.id);
      if (ids.length) this.s.closePending.run('the gateway stopped before the read-back', ts);
      return ids;
    });
  }

  prune(before: number): number {
    return this.s.prune.run(before).changes;
  }
}
