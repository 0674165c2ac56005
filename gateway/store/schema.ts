/** SQLite schema. The append-only `samples` table is also the sinks' outbox (seq = log position). */
export const SCHEMA_VERSION = 1;

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

-- AUTOINCREMENT: a seq is never reused, even when the newest row is replaced, so a sink's
-- cursor can never skip a replacement.
CREATE TABLE IF NOT EXISTS samples (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  series_id INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  value,
  quality INTEGER NOT NULL,
  reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS samples_series_ts ON samples (series_id, ts);
-- Only uncertain samples (counter resets and rollovers among them): it costs writes next to
-- nothing and lets long KPI windows find counter drops without reading raw data. (Named for the
-- KPI module, which created it before the store did: a new name would rebuild it on every store.)
CREATE INDEX IF NOT EXISTS kpi_samples_flagged ON samples (series_id, ts) WHERE quality = ${QUALITY_CODE.uncertain};

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

/** The store's own tables: no other part may name them (Store.ownTables). */
export const STORE_TABLES: ReadonlySet<string> = new Set([...SCHEMA_SQL.matchAll(/CREATE TABLE IF NOT EXISTS (\w+)/g)].map((m) => m[1] as string));
