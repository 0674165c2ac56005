import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STORE_TABLES } from '../../../gateway/store/schema.js';

/**
 * Only gateway/store/ issues SQL on the store's tables or touches the SQLite connection
 * (ARCHITECTURE.md, "Store ownership"). Everything else reads through the store's read API or
 * owns tables of its own through Store.ownTables. This walks the product's source and fails on
 * any statement naming a store table, and on any call that reaches SQLite directly.
 */

const ROOT = join(import.meta.dirname, '../../..');
const SCANNED = ['gateway', 'drivers', 'simulators'];
const ALLOWED = 'gateway/store/';

const tables = [...STORE_TABLES, 'sqlite_master', 'sqlite_schema', 'sqlite_sequence'];
const name = `"?(${tables.join('|')})"?(?![A-Za-z0-9_])`;
/** A statement that names a store table, in any letter case (UPDATE only with its SET, so prose passes). */
const STATEMENT = new RegExp(
  String.raw`\b(?:SELECT\b[^;]*?\bFROM|INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|DELETE\s+FROM|JOIN|(?:CREATE|DROP|ALTER)\s+TABLE(?:\s+IF\s+(?:NOT\s+)?EXISTS)?|CREATE\s+(?:UNIQUE\s+)?INDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+ON)\s+${name}|\bUPDATE(?:\s+OR\s+\w+)?\s+${name}\s+(?:AS\s+\w+\s+)?SET\b`,
  'i',
);
/** Reaching SQLite directly: a connection, a statement, a pragma, a script. */
const DIRECT: [string, RegExp][] = [
  ['imports better-sqlite3', /from\s+['"]better-sqlite3['"]|require\(\s*['"]better-sqlite3['"]\s*\)/],
  ['opens a database', /\bnew\s+Database\s*\(/],
  ['prepares a statement', /\.prepare\s*\(/],
  ['runs a pragma', /\.pragma\s*\(/],
  ['executes SQL', /\.exec\s*\(\s*[`'"A-Z]|\b\w*(?:db|Db|DB|database)\s*\.exec\s*\(/],
  ['reaches for the store connection', /\bstore\s*\.\s*db\b|\.db\s*\.\s*(?:prepare|exec|pragma|transaction)\b/],
];

/** Comments out (prose may say "read from samples"); strings and code stay. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export function violations(text: string): string[] {
  const src = code(text);
  const found: string[] = [];
  const stmt = STATEMENT.exec(src);
  if (stmt) found.push(`SQL on store table ${stmt[1] ?? stmt[2]}: "${stmt[0].replace(/\s+/g, ' ').slice(0, 80)}"`);
  for (const [what, re] of DIRECT) if (re.test(src)) found.push(what);
  return found;
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(?:ts|mts|js|mjs)$/.test(entry)) out.push(p);
  }
  return out;
}

describe('the store owns its tables', () => {
  it('no SQL on store tables, and no direct SQLite access, outside gateway/store/', () => {
    const files = SCANNED.flatMap((d) => sources(join(ROOT, d)))
      .map((p) => relative(ROOT, p))
      .filter((p) => !p.startsWith(ALLOWED));
    expect(files.length).toBeGreaterThan(100);
    const bad = files.flatMap((f) => violations(readFileSync(join(ROOT, f), 'utf8')).map((v) => `${f}: ${v}`));
    expect(bad).toEqual([]);
  });

  it('the store tables it guards are the schema’s', () => {
    expect([...STORE_TABLES].sort()).toEqual(['cursors', 'devices', 'events', 'latest', 'meta', 'rollup_1h', 'rollup_1m', 'samples', 'samples_archive', 'samples_recent', 'series']);
  });

  // The check itself: what the code did before the store owned its tables is caught…
  it.each([
    ['KPI reads of samples', "raw: p('SELECT ts, value, quality, reason FROM samples WHERE series_id = ? AND quality < 2 ORDER BY ts'),"],
    ['an index on samples', 'CREATE INDEX IF NOT EXISTS ${FLAG_INDEX} ON samples (series_id, ts) WHERE quality = 1;'],
    ['the report opening the file', "const db = new Database(path, { readonly: true, fileMustExist: true });"],
    ['activity on events', "this.store.db.prepare('SELECT device, max(ts) AS ts FROM events GROUP BY device').all()"],
    ['a cursor read', "rollupCursor: p('SELECT samples FROM cursors WHERE consumer = ?'),"],
    ['lower-case SQL', 'const rows = q("select * from latest l join series s on s.id = l.series_id");'],
    ['a write into devices', 'run(`INSERT OR REPLACE INTO devices (id) VALUES (?)`)'],
    ['a delete of rollups', "'DELETE FROM rollup_1h WHERE bucket < ?'"],
    ['an update of latest', "`UPDATE latest SET quality = max(quality, 1), reason = 'stale'`"],
    ['a sequence peek', `"SELECT seq FROM sqlite_sequence WHERE name = 'samples'"`],
    ['a schema run on the handle', 'db.exec(SCHEMA);'],
    ['a literal script', "this.handle.exec('VACUUM')"],
    ['a pragma', "conn.pragma('busy_timeout = 5000');"],
    ['a better-sqlite3 import', "import Database from 'better-sqlite3';"],
  ])('flags %s', (_what, line) => {
    expect(violations(line)).not.toEqual([]);
  });

  // …and what parts legitimately write is not.
  it.each([
    ['a part’s own table', "getMeta: sql<{ value: string }>('SELECT value FROM kpi_meta WHERE key = ?'),"],
    ['dead letters', 'INSERT OR REPLACE INTO sink_dead_letters (sink, log, seq) VALUES (?, ?, ?)'],
    ['a regular expression', 'const m = DURATION_PART.exec(s);'],
    ['a regex literal', 'const m = /^(\\d+):(.+)$/.exec(text);'],
    ['prose in a comment', '// the newest sample (read from samples by the store) and its events'],
    ['the read API', 'const rows = store.reads.latest({ device });'],
    ['a table-like word in prose', "log.info('update devices list');"],
  ])('does not flag %s', (_what, line) => {
    expect(violations(line)).toEqual([]);
  });
});
