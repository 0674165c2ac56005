import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KpiStateDb } from '../../../gateway/kpi/state-db.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { Sample } from '../../../gateway/model/types.js';
import { DeadLetters } from '../../../gateway/sinks/dead-letters.js';
import { StoreError } from '../../../gateway/store/errors.js';
import { sql, tablesNamed } from '../../../gateway/store/owned-tables.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

const T0 = Date.UTC(2026, 5, 1);
const sample = (ts: number, value: number, extra: Partial<Sample> = {}): Sample => ({
  site: 't',
  device: 'm1',
  class: 'grid_meter',
  metric: 'energy_import',
  ts,
  value,
  quality: 'good',
  ...extra,
});

describe('tables a part owns through the store', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  const path = () => join(dir.dir, 'gw.db');
  beforeEach(() => {
    dir = tempDir();
    store = Store.open({ path: path(), site: 't', clock: new ManualClock(T0) });
  });
  afterEach(() => {
    if (store.isOpen) store.close();
    dir.cleanup();
  });

  const spec = (statements: Record<string, ReturnType<typeof sql>>, owner = 'test', tables = ['test_notes']) => ({
    owner,
    tables,
    schema: 'CREATE TABLE IF NOT EXISTS test_notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL); CREATE INDEX IF NOT EXISTS test_notes_text ON test_notes (text);',
    statements,
  });

  it('runs the schema and hands back typed statements sharing the store transaction', () => {
    const notes = store.ownTables({
      ...spec({}),
      statements: { add: sql('INSERT INTO test_notes (text) VALUES (?)'), all: sql<{ id: number; text: string }>('SELECT id, text FROM test_notes ORDER BY id') },
    });
    expect(notes.statements.add.run('a').lastInsertRowid).toBe(1);
    // A failing transaction takes the part's rows and the store's samples back together.
    expect(() =>
      store.transaction(() => {
        notes.statements.add.run('b');
        store.write([sample(T0, 1)]);
        throw new Error('undo');
      }),
    ).toThrow('undo');
    expect(notes.statements.all.all()).toEqual([{ id: 1, text: 'a' }]);
    expect(store.counts().samples).toBe(0);
    // A statement that returns no rows has no get/all.
    expect(() => notes.statements.add.all()).toThrow(expect.objectContaining({ code: 'STATEMENT_RETURNS_NOTHING' }));
  });

  it.each([
    ['a read of samples', 'SELECT ts FROM samples WHERE series_id = ?'],
    ['a join onto series', 'SELECT n.text FROM test_notes n JOIN series s ON s.id = n.id'],
    ['a write into cursors', "INSERT INTO cursors (consumer, samples, events, updated_at) VALUES ('x', 0, 0, 0)"],
    ['an update of latest', "UPDATE latest SET reason = 'x'"],
    ['a delete from events', 'DELETE FROM events'],
    ['a quoted table name', 'SELECT * FROM "samples"'],
    ['lower case', 'select * from devices'],
    ['a subquery', 'SELECT * FROM test_notes WHERE id IN (SELECT seq FROM samples)'],
  ])('refuses %s: TABLE_NOT_OWNED, and nothing is created', (_what, text) => {
    const err = (() => {
      try {
        store.ownTables(spec({ bad: sql(text) }));
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: 'TABLE_NOT_OWNED', retryable: false });
    // Checked before the schema runs.
    expect(() => store.ownTables(spec({ ok: sql('SELECT count(*) AS n FROM test_notes') }))).not.toThrow();
  });

  it("refuses an index on the store's tables, claiming a store table, and another owner's table", () => {
    const onSamples = { owner: 'x', tables: ['x_t'], schema: 'CREATE INDEX IF NOT EXISTS x_t_ts ON samples (ts)', statements: {} };
    expect(() => store.ownTables(onSamples)).toThrow(expect.objectContaining({ code: 'TABLE_NOT_OWNED' }));
    expect(() => store.ownTables({ owner: 'x', tables: ['samples'], schema: '', statements: {} })).toThrow(expect.objectContaining({ code: 'TABLE_NOT_OWNED' }));
    expect(() => store.ownTables({ owner: 'x', tables: ['sqlite_master'], schema: '', statements: {} })).toThrow(expect.objectContaining({ code: 'TABLE_NOT_OWNED' }));
    const strayIndex = { owner: 'x', tables: ['x_t'], schema: 'CREATE TABLE IF NOT EXISTS x_t (a); CREATE INDEX IF NOT EXISTS samples_series_ts ON x_t (a)', statements: {} };
    expect(() => store.ownTables(strayIndex)).toThrow(expect.objectContaining({ code: 'TABLE_NOT_OWNED' }));
    store.ownTables(spec({}));
    expect(() => store.ownTables(spec({}, 'other'))).toThrow(expect.objectContaining({ code: 'TABLE_TAKEN' }));
    // The same owner again (a reload builds its part anew) is fine.
    expect(() => store.ownTables(spec({}))).not.toThrow();
  });

  it('finds the tables a statement names (and not functions or keywords)', () => {
    expect(tablesNamed("INSERT INTO kpi_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value").tables).toEqual(['kpi_meta']);
    expect(tablesNamed('SELECT value FROM json_each(?) JOIN alerts a ON a.id = value').tables).toEqual(['alerts']);
    expect(tablesNamed('CREATE INDEX IF NOT EXISTS alerts_ts ON alerts (ts)')).toEqual({ tables: ['alerts'], indexes: ['alerts_ts'] });
  });

  it('KPI state and dead letters live in their own tables of the store file', () => {
    const kpi = new KpiStateDb(store);
    kpi.setMeta('cursor', '{"samples":3}');
    expect(kpi.meta('cursor')).toBe('{"samples":3}');
    const letters = new DeadLetters(store);
    const item = (seq: number) => ({ log: 'samples' as const, record: { ...sample(T0 + seq, seq), seq } });
    letters.add('vm', item(1), 'p1', 'field type conflict', 400, T0);
    letters.add('vm', item(1), 'p1', 'field type conflict', 400, T0 + 1); // the same record again: kept once
    letters.add('ix', item(2), 'p2', 'unparseable', undefined, T0 + 2);
    expect(letters.count('vm')).toBe(1);
    expect(letters.list('ix')).toEqual([{ sink: 'ix', log: 'samples', seq: 2, ts: T0 + 2, payload: 'p2', status: null, reason: 'unparseable', at: T0 + 2 }]);
    expect(letters.list().map((l) => l.sink)).toEqual(['ix', 'vm']);
    // Both survive a reopen (they are in the file).
    store.close();
    store = Store.open({ path: path(), site: 't', clock: new ManualClock(T0) });
    expect(new KpiStateDb(store).meta('cursor')).toBe('{"samples":3}');
    expect(new DeadLetters(store).count('vm')).toBe(1);
  });
});

describe('a store opened read-only (the report next to a running gateway)', () => {
  it('reads what the writer committed, learns series written after it opened, and refuses to write', () => {
    const dir = tempDir();
    const writer = Store.open({ path: join(dir.dir, 'gw.db'), site: 't', clock: new ManualClock(T0) });
    try {
      writer.write([sample(T0, 100), sample(T0 + 60_000, 90, { quality: 'uncertain', reason: 'counter_reset' }), sample(T0 + 120_000, 5, { quality: 'bad' })]);
      const reader = Store.open({ path: join(dir.dir, 'gw.db'), site: 't', readOnly: true });
      try {
        const q = reader.kpiReads();
        const sid = q.seriesId('m1', 'energy_import') as number;
        // Quality comes back by name; bad samples are not usable and not read.
        expect(q.raw(sid, T0, T0 + 1e6)).toEqual([
          { ts: T0, value: 100, quality: 'good', reason: null },
          { ts: T0 + 60_000, value: 90, quality: 'uncertain', reason: 'counter_reset' },
        ]);
        expect(q.flagIndex()).toBe(true);
        writer.write([{ ...sample(T0, 7), device: 'm2' }]);
        expect(q.seriesId('m2', 'energy_import')).toBeUndefined();
        q.refresh();
        expect(q.raw(q.seriesId('m2', 'energy_import') as number, T0, T0 + 1)).toHaveLength(1);
        expect(() => reader.write([sample(T0 + 1, 1)])).toThrow(/readonly/i);
        expect(() => new KpiStateDb(reader)).toThrow(expect.objectContaining({ code: 'STORE_READ_ONLY' }));
      } finally {
        reader.close();
      }
    } finally {
      writer.close();
      dir.cleanup();
    }
  });
});
