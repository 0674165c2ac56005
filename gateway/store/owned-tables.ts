import type Database from 'better-sqlite3';
import { StoreError } from './errors.js';

/**
 * Tables another part of the gateway owns in the store's file (the KPI module's target state and
 * alerts, the sinks' dead letters). The part declares its tables, their schema and its named
 * statements as data; the store checks that they name only those tables, runs the schema, and
 * hands back typed statements. So the store's own tables (samples, events, cursors…) are touched
 * by the store alone, a part's tables share the store's file, connection and transactions (a
 * KPI pass reads samples and writes its verdicts in one), and the part keeps its own vocabulary:
 * the store knows nothing of alerts or dead letters.
 */

/** A statement's SQL with the row type it returns (a phantom: only the text exists at run time). */
export interface Sql<Row> {
  readonly text: string;
  readonly row?: Row;
}

/** SQL over a part's own tables; `Row` is what `get`/`all` return. */
export const sql = <Row = never>(text: string): Sql<Row> => ({ text });

export interface TableSpec<S extends Record<string, Sql<unknown>>> {
  /** Who owns the tables (in messages, and a table has one owner). */
  owner: string;
  /** The tables; indexes are named after one of them (`alerts_ts`). */
  tables: readonly string[];
  /** CREATE TABLE / CREATE INDEX … IF NOT EXISTS, run when the part opens its tables. */
  schema: string;
  statements: S;
}

export interface RunResult {
  changes: number;
  lastInsertRowid: number;
}

/** A prepared statement over a part's own tables: only run/get/all (never the connection behind it). */
export interface OwnedStatement<Row> {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): Row | undefined;
  all(...params: unknown[]): Row[];
}

export type OwnedStatements<S> = { [K in keyof S]: S[K] extends Sql<infer R> ? OwnedStatement<R> : never };

export interface OwnedTables<S> {
  readonly statements: OwnedStatements<S>;
  /** Run `fn` in one store transaction (nested calls join the outer one). */
  transaction<T>(fn: () => T): T;
}

/** Table-valued functions a statement may read from besides its tables. */
const TABLE_FUNCTIONS = new Set(['json_each', 'json_tree']);
/** Keywords that can follow the words above (`ON CONFLICT … DO UPDATE SET`). */
const NOT_NAMES = new Set(['set', 'select']);

/**
 * Every table a statement names: after FROM, JOIN, INTO, UPDATE, TABLE and CREATE INDEX … ON,
 * plus the index names themselves. A guard against a part reaching into the store's tables by
 * accident, not a SQL parser.
 */
export function tablesNamed(text: string): { tables: string[]; indexes: string[] } {
  const tables = new Set<string>();
  const indexes = new Set<string>();
  const ref = /\b(?:FROM|JOIN|INTO|UPDATE|TABLE(?:\s+IF\s+NOT\s+EXISTS)?)\s+("?)([A-Za-z_][A-Za-z0-9_]*)\1(\s*\()?/gi;
  for (const m of text.matchAll(ref)) {
    const name = (m[2] as string).toLowerCase();
    if ((m[3] && TABLE_FUNCTIONS.has(name)) || NOT_NAMES.has(name)) continue;
    tables.add(name);
  }
  const index = /\bINDEX\s+(?:IF\s+NOT\s+EXISTS\s+)?([A-Za-z_][A-Za-z0-9_]*)\s+ON\s+([A-Za-z_][A-Za-z0-9_]*)/gi;
  for (const m of text.matchAll(index)) {
    indexes.add((m[1] as string).toLowerCase());
    tables.add((m[2] as string).toLowerCase());
  }
  return { tables: [...tables], indexes: [...indexes] };
}

/** Check a spec against the store's own tables and the owners before it; throws StoreError. */
export function checkSpec(spec: TableSpec<Record<string, Sql<unknown>>>, storeTables: ReadonlySet<string>, owners: Map<string, string>): void {
  const own = new Set(spec.tables.map((t) => t.toLowerCase()));
  for (const t of own) {
    if (storeTables.has(t) || t.startsWith('sqlite_')) throw new StoreError('TABLE_NOT_OWNED', `${spec.owner}: table ${t} is the store's own`);
    const other = owners.get(t);
    if (other !== undefined && other !== spec.owner) throw new StoreError('TABLE_TAKEN', `${spec.owner}: table ${t} is owned by ${other}`);
  }
  const texts: [string, string][] = [['schema', spec.schema], ...Object.entries(spec.statements).map(([k, s]): [string, string] => [k, s.text])];
  for (const [what, text] of texts) {
    const named = tablesNamed(text);
    const foreign = named.tables.filter((t) => !own.has(t));
    if (foreign.length) throw new StoreError('TABLE_NOT_OWNED', `${spec.owner} ${what}: names ${foreign.join(', ')}, not among its tables (${[...own].join(', ')})`);
    const strayIndex = named.indexes.filter((i) => ![...own].some((t) => i.startsWith(`${t}_`)));
    if (strayIndex.length) throw new StoreError('TABLE_NOT_OWNED', `${spec.owner} ${what}: index ${strayIndex.join(', ')} is not named after one of its tables`);
  }
  for (const t of own) owners.set(t, spec.owner);
}

export function prepareOwned<S extends Record<string, Sql<unknown>>>(db: Database.Database, spec: TableSpec<S>): OwnedTables<S> {
  db.exec(spec.schema);
  const statements = {} as Record<string, OwnedStatement<unknown>>;
  for (const [name, s] of Object.entries(spec.statements)) {
    const st = db.prepare(s.text);
    const reader = st.reader;
    statements[name] = {
      run: (...p) => {
        const r = st.run(...p);
        return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
      },
      get: reader ? (...p) => st.get(...p) : notReader(spec.owner, name),
      all: reader ? (...p) => st.all(...p) : notReader(spec.owner, name),
    };
  }
  return {
    statements: statements as OwnedStatements<S>,
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
  };
}

const notReader = (owner: string, name: string) => (): never => {
  throw new StoreError('STATEMENT_RETURNS_NOTHING', `${owner}: statement ${name} returns no rows`);
};
