import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { WalCheckpointer } from './checkpointer.js';
import { prepareStorePath, storeOpenError } from './files.js';
import { LOG_UPGRADE_SQL, SCHEMA_SQL, SCHEMA_VERSION } from './schema.js';

/**
 * Opening the store's file: a read-only connection beside a running gateway (a report), or the
 * gateway's own: the file and its directory made the owner's alone, WAL, the pragmas, the schema,
 * the store's identity in `meta`, and the WAL checkpoint thread when asked for.
 */
export function openConnection(opts: { path: string; site: string; log?: Logger | undefined; checkpointThread?: boolean | undefined; readOnly?: boolean | undefined }): {
  db: Database.Database;
  checkpointer?: WalCheckpointer | undefined;
} {
  if (opts.readOnly) {
    let db: Database.Database;
    try {
      db = new Database(opts.path, { readonly: true, fileMustExist: true });
    } catch (err) {
      throw storeOpenError(opts.path, err);
    }
    db.pragma('busy_timeout = 5000');
    if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'samples_recent'").get()) {
      db.close();
      throw new Error(`store ${opts.path} was written by an older fcgw: start the gateway on it once (it upgrades the file), then read it`);
    }
    return { db };
  }
  const { tightened } = prepareStorePath(opts.path);
  if (tightened.length) opts.log?.warn({ files: tightened }, 'store files were readable by others: now 0600');
  let db: Database.Database;
  try {
    db = new Database(opts.path);
    db.pragma('journal_mode = WAL');
  } catch (err) {
    throw storeOpenError(opts.path, err);
  }
  // NORMAL in WAL: a committed transaction survives a process crash (not a power cut) at a fraction of FULL's cost.
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('cache_size = -32000');
  db.pragma('temp_store = MEMORY');
  db.transaction(() => {
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples'").get()) {
      opts.log?.info('store: the sample log now has a recent and an archive table; the old one becomes the archive');
      db.exec(LOG_UPGRADE_SQL);
    }
    db.exec(SCHEMA_SQL);
  })();
  const checkpointer = opts.checkpointThread ? WalCheckpointer.start(db, opts.path, opts.log ? { log: opts.log } : {}) : undefined;
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run('schema_version', String(SCHEMA_VERSION));
  db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run('site', opts.site);
  return { db, checkpointer };
}
