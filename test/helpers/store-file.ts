import Database from 'better-sqlite3';
import type { Store } from '../../gateway/store/store.js';

/**
 * A test's own read-only look at a store's file (counts and sums across tables the store's read
 * API has no call for), on a second connection: it sees what the store committed, and the store's
 * connection stays private to the store.
 */
export function inspectStore<T>(store: Pick<Store, 'path'>, fn: (db: Database.Database) => T): T {
  const db = new Database(store.path, { readonly: true, fileMustExist: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}
