/**
 * SQLite schema. The sample log (the view `samples`, seq = log position) is also the sinks' outbox.
 *
 * Why the log is two tables: a (series, time) index written a few rows per series per commit
 * dirties one 4 KB leaf per series per commit, and that page goes to the WAL and again to the
 * file: 5 KB of disk and most of the commit's CPU per sample at 500 series. New samples go to the
 * small `samples_recent` (its index is a few dozen pages, so a commit dirties few), and every
 * FOLD_ROWS samples or FOLD_MS the store moves them to `samples_archive` in one transaction,
 * which writes each series' leaf once for many samples (store.ts).
 */
export const SCHEMA_VERSION = 2;

/** How a sample's quality is stored (the only place these numbers are written down). */
export const QUALITY_CODE = { good: 0, uncertain: 1, bad: 2 } as const;
export const QUALITY_NAME = ['good', 'uncertain', 'bad'] as const;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS series (
  id INTEGER PRIMARY KEY,
  device TEXT NOT NULL,
  class TEXT NOT NULL,
  metric TEXT NOT NULL,
  UNIQUE (device, metric)
);

-- The sample log in two tables and one view (why: the comment at the top of this file):
-- samples_recent: what was committed lately. AUTOINCREMENT: its sequence is the log's, and a seq
--   is never reused, even when the newest row is replaced, so a sink's cursor can never skip a
--   replacement.
-- samples_archive: everything older, folded in from samples_recent.
-- samples: both, for every reader.
CREATE TABLE IF NOT EXISTS samples_archive (
  seq INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value,
  quality INTEGER NOT NULL,
  reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS samples_series_ts ON samples_archive (series_id, ts);
-- Only uncertain samples (counter resets and rollovers among them): it costs writes next to
-- nothing and lets long KPI windows find counter drops without reading raw data. (Named for the
-- KPI module, which created it before the store did: a new name would rebuild it on every store.)
CREATE INDEX IF NOT EXISTS kpi_samples_flagged ON samples_archive (series_id, ts) WHERE quality = ${QUALITY_CODE.uncertain};
CREATE TABLE IF NOT EXISTS samples_recent (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value,
  quality INTEGER NOT NULL,
  reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS samples_recent_series_ts ON samples_recent (series_id, ts);
CREATE VIEW IF NOT EXISTS samples AS
  SELECT seq, series_id, ts, value, quality, reason FROM samples_archive
  UNION ALL
  SELECT seq, series_id, ts, value, quality, reason FROM samples_recent;
-- A new store's log starts where an upgraded store's left off (LOG_UPGRADE_SQL); otherwise at 0.
INSERT INTO sqlite_sequence (name, seq)
  SELECT 'samples_recent', max(coalesce((SELECT max(seq) FROM samples_archive), 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'samples_archive'), 0))
  WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'samples_recent');

CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  device TEXT NOT NULL,
  class TEXT NOT NULL,
  type TEXT NOT NULL,
  attributes TEXT NOT NULL
);
-- A redelivered event (MQTT at-least-once) is the same event: stored once.
CREATE UNIQUE INDEX IF NOT EXISTS events_identity ON events (device, type, ts, attributes);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);

CREATE TABLE IF NOT EXISTS latest (
  series_id INTEGER PRIMARY KEY,
  ts INTEGER NOT NULL,
  value,
  quality INTEGER NOT NULL,
  reason TEXT,
  received_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  class TEXT NOT NULL,
  connection TEXT NOT NULL,
  profile TEXT NOT NULL,
  tags TEXT NOT NULL DEFAULT '{}',
  discovered INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER
);

CREATE TABLE IF NOT EXISTS cursors (
  consumer TEXT PRIMARY KEY,
  samples INTEGER NOT NULL,
  events INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS rollup_1m (
  series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
  count INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
  last REAL NOT NULL, last_ts INTEGER NOT NULL,
  PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS rollup_1h (
  series_id INTEGER NOT NULL, bucket INTEGER NOT NULL,
  count INTEGER NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL,
  last REAL NOT NULL, last_ts INTEGER NOT NULL,
  PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
`;

/** The store's own tables and views: no other part may name them (Store.ownTables). */
export const STORE_TABLES: ReadonlySet<string> = new Set([...SCHEMA_SQL.matchAll(/CREATE (?:TABLE|VIEW) IF NOT EXISTS (\w+)/g)].map((m) => m[1] as string));

/** Samples in `samples_recent` that start a fold into `samples_archive`. */
export const FOLD_ROWS = 16_384;
/** The longest a sample waits in `samples_recent` before a fold (its commit's clock time). */
export const FOLD_MS = 60_000;

/** A store written before the log had two tables: its `samples` table becomes the archive. */
export const LOG_UPGRADE_SQL = 'ALTER TABLE samples RENAME TO samples_archive';
