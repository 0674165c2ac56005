import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { FOLD_MS, FOLD_ROWS } from '../../../gateway/store/schema.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

/**
 * The sample log is two tables behind one view (schema.ts): new samples in samples_recent, folded
 * into samples_archive. Identity, log positions and reads must not see the seam.
 */

const T0 = Date.UTC(2026, 5, 1);
const MIN = 60_000;
const vol = (device: string, ts: number, value: number, extra: Partial<Sample> = {}): Sample => ({
  site: 't',
  device,
  class: 'water_meter',
  metric: 'volume_total',
  ts,
  value,
  quality: 'good',
  ...extra,
});

function tableRows(path: string): { archive: number; recent: number } {
  const db = new Database(path, { readonly: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { archive: n('samples_archive'), recent: n('samples_recent') };
  } finally {
    db.close();
  }
}

describe('the sample log: recent and archive tables behind one view', () => {
  let dir: { dir: string; cleanup: () => void };
  let path: string;
  beforeEach(() => {
    dir = tempDir();
    path = join(dir.dir, 'gw.db');
  });
  afterEach(() => dir.cleanup());

  it('judges copies and corrections of folded samples as of recent ones: a copy adds no row, a correction leaves the archive under a new position', () => {
    const store = Store.open({ path, site: 't' });
    try {
      store.write([vol('a', T0, 100), vol('a', T0 + MIN, 101), vol('b', T0, 7)]);
      store.foldLog();
      expect(tableRows(path)).toEqual({ archive: 3, recent: 0 });
      const before = store.maxSeq().samples;
      expect(before).toBe(3);

      // A copy of an archived sample: counted, nothing written.
      expect(store.write([vol('a', T0, 100)])).toMatchObject({ samples: 1 });
      expect(store.maxSeq().samples).toBe(before);
      expect(tableRows(path)).toEqual({ archive: 3, recent: 0 });

      // A correction of an archived sample: out of the archive, into the recent table, after `before`.
      expect(store.write([vol('a', T0 + MIN, 111)])).toEqual({ samples: 0, events: 0 });
      expect(tableRows(path)).toEqual({ archive: 2, recent: 1 });
      // (A refused insert may use up a position: positions grow, not necessarily by one.)
      const corrected = store.samplesAfter(before, 10);
      expect(corrected.map((s) => [s.device, s.ts - T0, s.value])).toEqual([['a', MIN, 111]]);
      // A copy of the correction, now recent, is a copy; another correction replaces it again.
      const mid = store.maxSeq().samples;
      expect(store.write([vol('a', T0 + MIN, 111)])).toMatchObject({ samples: 1 });
      store.write([vol('a', T0 + MIN, 112)]);
      expect(store.samplesAfter(before, 10).map((s) => s.value)).toEqual([112]);
      expect(store.samplesAfter(mid, 10).map((s) => s.value)).toEqual([112]);

      // Reads cross the seam in time order, and the whole log reads in seq order.
      store.write([vol('a', T0 - MIN, 99)]);
      expect(store.reads.rawSeries('a', 'volume_total', T0 - MIN, T0 + 2 * MIN).map((p) => [p[0] - T0, p[1]])).toEqual([
        [-MIN, 99],
        [0, 100],
        [MIN, 112],
      ]);
      const log = store.samplesAfter(0, 10);
      expect(log.map((s) => [s.device, s.ts - T0, s.value])).toEqual([
        ['a', 0, 100],
        ['b', 0, 7],
        ['a', MIN, 112],
        ['a', -MIN, 99],
      ]);
      expect(log.map((s) => s.seq)).toEqual([...log.map((s) => s.seq)].sort((x, y) => x - y));
      expect(store.history().before('a', 'volume_total', T0 + MIN)).toEqual({ ts: T0, value: 100 });
      expect(store.counts().samples).toBe(4);
    } finally {
      store.close();
    }
  });

  it('finds a series\' oldest sample in either table, and none for a series without samples (the KPI reads\' counter-drop check starts from it)', () => {
    const store = Store.open({ path, site: 't' });
    try {
      store.write([vol('a', T0 + MIN, 1), vol('a', T0 + 2 * MIN, 2), vol('b', T0, 5)]);
      store.foldLog();
      store.write([vol('a', T0 - MIN, 0), vol('c', T0 + 5 * MIN, 9)]);
      const reads = store.kpiReads();
      const sid = (d: string) => store.series(d, 'volume_total')?.id as number;
      expect(reads.oldestSample(sid('a'))).toBe(T0 - MIN); // recent, older than the archive's
      expect(reads.oldestSample(sid('b'))).toBe(T0); // archive only
      expect(reads.oldestSample(sid('c'))).toBe(T0 + 5 * MIN); // recent only
      expect(reads.oldestSample(999)).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it('folds every FOLD_ROWS samples and at the latest FOLD_MS after the first waiting one, in one commit with it', () => {
    let now = T0;
    const store = Store.open({ path, site: 't', clock: { now: () => now } });
    try {
      const batch = (k: number, n: number) => Array.from({ length: n }, (_, i) => vol(`d${i % 100}`, T0 + (k * n + i) * 1000, i));
      store.write(batch(0, FOLD_ROWS - 1));
      expect(store.folds).toBe(0);
      expect(tableRows(path)).toEqual({ archive: 0, recent: FOLD_ROWS - 1 });
      store.write(batch(1, FOLD_ROWS - 1).slice(0, 1));
      expect(store.folds).toBe(1);
      expect(tableRows(path)).toEqual({ archive: FOLD_ROWS, recent: 0 });

      store.write([vol('x', T0, 1)]);
      now += FOLD_MS - 1;
      store.write([vol('x', T0 + 1000, 2)]);
      expect(tableRows(path)).toEqual({ archive: FOLD_ROWS, recent: 2 });
      now += 1;
      store.write([vol('x', T0 + 2000, 3)]);
      expect(store.folds).toBe(2);
      expect(tableRows(path)).toEqual({ archive: FOLD_ROWS + 3, recent: 0 });
      // A commit of copies only starts no clock: the next real sample does.
      now += 10 * FOLD_MS;
      store.write([vol('x', T0, 1)]);
      expect(store.folds).toBe(2);
      expect(store.maxSeq().samples).toBe(FOLD_ROWS + 3);
    } finally {
      store.close();
    }
  });

  it('a log position is never reused: not after the newest row is replaced, nor after a fold and a reopen', () => {
    let store = Store.open({ path, site: 't' });
    store.write([vol('a', T0, 1), vol('a', T0 + MIN, 2)]);
    store.write([vol('a', T0 + MIN, 3)]); // replaces the newest row under a new position
    const newest = store.maxSeq().samples;
    expect(store.samplesAfter(0, 10).map((s) => [s.seq, s.value])).toEqual([
      [1, 1],
      [newest, 3],
    ]);
    store.foldLog();
    store.write([vol('a', T0 + MIN, 5)]); // and again, now that the row is archived
    const newer = store.maxSeq().samples;
    expect(newer).toBeGreaterThan(newest);
    store.foldLog();
    store.close();
    store = Store.open({ path, site: 't' });
    try {
      expect(store.maxSeq().samples).toBe(newer);
      store.write([vol('a', T0 + 2 * MIN, 4)]);
      const log = store.samplesAfter(0, 10);
      expect(log.map((s) => s.value)).toEqual([1, 5, 4]);
      expect(log[2]?.seq).toBeGreaterThan(newer);
      expect(store.samplesAfter(newer, 10).map((s) => s.value)).toEqual([4]);
    } finally {
      store.close();
    }
  });

  it('upgrades a store written with one samples table: its rows become the archive, its sequence goes on, its cursors still hold', () => {
    // The layout before: one AUTOINCREMENT table (as the schema had it), whose newest row was replaced.
    const schema = readFileSync(join(import.meta.dirname, 'fixtures', 'schema-v1.sql'), 'utf8');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec(schema);
    old.prepare("INSERT INTO series (id, device, class, metric) VALUES (1, 'a', 'water_meter', 'volume_total')").run();
    const ins = old.prepare('INSERT INTO samples (series_id, ts, value, quality, reason) VALUES (1, ?, ?, 0, NULL)');
    for (let i = 0; i < 5; i++) ins.run(T0 + i * MIN, 100 + i);
    old.prepare('DELETE FROM samples WHERE seq = 5').run();
    old.prepare("INSERT INTO cursors (consumer, samples, events, updated_at) VALUES ('sink:influx', 4, 0, 0)").run();
    old.close();

    const store = Store.open({ path, site: 't' });
    try {
      expect(tableRows(path)).toEqual({ archive: 4, recent: 0 });
      expect(store.maxSeq().samples).toBe(5);
      expect(store.getCursor('sink:influx')).toEqual({ samples: 4, events: 0 });
      // A copy of an upgraded row is a copy; a new sample takes the next position.
      expect(store.write([vol('a', T0, 100), vol('a', T0 + 9 * MIN, 109)])).toMatchObject({ samples: 1 });
      const next = store.samplesAfter(4, 10);
      expect(next.map((s) => [s.ts - T0, s.value])).toEqual([[9 * MIN, 109]]);
      expect(next[0]?.seq).toBeGreaterThan(5);
      expect(store.reads.rawSeries('a', 'volume_total', T0, T0 + 10 * MIN).map((p) => p[1])).toEqual([100, 101, 102, 103, 109]);
      // The KPI module's partial index came along with the table.
      const db = new Database(path, { readonly: true });
      const idx = db.prepare("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name IN ('samples_series_ts', 'kpi_samples_flagged') ORDER BY name").all();
      const version = db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get() as { value: string };
      db.close();
      expect(idx).toEqual([
        { name: 'kpi_samples_flagged', tbl_name: 'samples_archive' },
        { name: 'samples_series_ts', tbl_name: 'samples_archive' },
      ]);
      expect(version.value).toBe('2');
    } finally {
      store.close();
    }
  });

  it('a read-only open of a store not yet upgraded says so, and leaves the file as it was', () => {
    const old = new Database(path);
    old.exec(readFileSync(join(import.meta.dirname, 'fixtures', 'schema-v1.sql'), 'utf8'));
    old.close();
    expect(() => Store.open({ path, site: 't', readOnly: true })).toThrow(/written by an older fcgw: start the gateway on it once/);
    const db = new Database(path, { readonly: true });
    const t = db.prepare("SELECT type FROM sqlite_master WHERE name = 'samples'").get() as { type: string };
    db.close();
    expect(t.type).toBe('table');
  });
});
