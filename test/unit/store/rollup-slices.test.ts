import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LiveHub } from '../../../gateway/api/live.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { Sample } from '../../../gateway/model/types.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Ingestor } from '../../../gateway/pipeline/ingest.js';
import { Dedupe } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { StalenessTracker } from '../../../gateway/pipeline/staleness.js';
import { Maintenance, ROLLUP_SLICE } from '../../../gateway/runtime/maintenance.js';
import { GatewayMetrics } from '../../../gateway/runtime/metrics.js';
import { ROLLUP_CONSUMER, updateRollups } from '../../../gateway/store/maintenance.js';
import { rollupSeries } from '../../../gateway/store/queries.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';
import { inspectStore } from '../../helpers/store-file.js';

/**
 * A rollup backlog is worked off in slices with the event loop free in between: in one go it
 * held the loop for 100-300 ms under MQTT ingest, and every acknowledgement waited behind it.
 * The slices fold into one set of aggregates, written once the log is caught up (or maintenance
 * stops): written slice by slice, a busy log's hundreds of series cost nearly one upsert a sample.
 */
const T0 = Date.UTC(2026, 5, 1);
const N = 2 * ROLLUP_SLICE + 1500;
const sample = (i: number): Sample => ({ site: 't', device: 'm1', class: 'grid_meter', metric: 'power', ts: T0 + i * 1000, value: i % 7, quality: 'good' });

function maintenanceOn(store: Store, log: pino.Logger, staleness = new StalenessTracker(() => 60_000), clock = () => T0): Maintenance {
  const config = parseConfig('version: 1\nsite: { id: t }\n');
  const metrics = new GatewayMetrics({ defaults: false });
  const pipeline = { site: 't', deviceClass: () => 'grid_meter', counters: new CounterState(), dedupe: new Dedupe(), pseudo: new Pseudonymiser(Buffer.alloc(32, 1)), now: clock };
  const ingestor = new Ingestor({ store, metrics, log, maxRows: 1000, queueMax: 10_000, normalise: pipeline });
  return new Maintenance({ store, config, metrics, log, staleness, ingestor, live: new LiveHub() });
}

describe('rollups in slices', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  beforeEach(() => {
    dir = tempDir();
    store = Store.open({ path: join(dir.dir, 'r.db'), site: 't', clock: new ManualClock(T0) });
    store.write(Array.from({ length: N }, (_, i) => sample(i)));
  });
  afterEach(() => {
    store.close();
    dir.cleanup();
  });
  const maintenance = () => maintenanceOn(store, pino({ level: 'silent' }));


  it('updateRollups reads at most maxRows per call', () => {
    expect(updateRollups(store, ROLLUP_SLICE)).toBe(ROLLUP_SLICE);
    expect(updateRollups(store, ROLLUP_SLICE)).toBe(ROLLUP_SLICE);
    expect(updateRollups(store, ROLLUP_SLICE)).toBe(1500);
    expect(updateRollups(store, ROLLUP_SLICE)).toBe(0);
  });

  it('the maintenance timer catches up slice by slice, letting other work run in between, to the same rollups', async () => {
    const m = maintenance();
    m.start();
    try {
      // Work queued right after the first slice (an MQTT read, a commit) runs before the rest.
      const order: string[] = [];
      const done = new Promise<void>((resolve) =>
        m.rollupsInSlices(() => {
          order.push('done');
          resolve();
        }),
      );
      // Between slices the fold is held, not written: the rollups' cursor has not moved yet.
      let cursorBetween: number | undefined = -1;
      setImmediate(() => {
        order.push('other work');
        cursorBetween = store.getCursor(ROLLUP_CONSUMER)?.samples;
      });
      await done;
      expect(order).toEqual(['other work', 'done']);
      expect(cursorBetween ?? 0).toBe(0);
      expect(store.getCursor(ROLLUP_CONSUMER)?.samples).toBe(N);
      expect(updateRollups(store)).toBe(0);
      const hours = rollupSeries(store, 'm1', 'power', T0, T0 + 3 * 3_600_000, '1h');
      expect(hours.reduce((n, h) => n + h.count, 0)).toBe(N);
      expect(hours[0]).toMatchObject({ ts: T0, count: 3600, min: 0, max: 6 });
      // Against SQLite's own aggregates over the raw samples, every bucket of both tables.
      for (const [table, ms] of [['rollup_1m', 60_000], ['rollup_1h', 3_600_000]] as const) {
        const [mine, sqlite] = inspectStore(store, (db) => [
          db.prepare(`SELECT series_id, bucket, count, sum, min, max, last, last_ts FROM ${table} ORDER BY series_id, bucket`).all(),
          db
            .prepare(
              `SELECT g.*, (SELECT value FROM samples s WHERE s.series_id = g.series_id AND s.ts = g.last_ts) AS last FROM (SELECT series_id, ts - ts % ${ms} AS bucket, count(*) AS count, sum(value) AS sum, min(value) AS min, max(value) AS max, max(ts) AS last_ts FROM samples GROUP BY series_id, bucket) g ORDER BY series_id, bucket`,
            )
            .all(),
        ]);
        expect(mine, table).toEqual(sqlite);
      }
    } finally {
      m.stop();
    }
  });

  it('stops between slices once maintenance is stopped', async () => {
    const m = maintenance();
    m.start();
    const done = new Promise<void>((resolve) => m.rollupsInSlices(resolve));
    m.stop();
    await done;
    // One slice ran before the stop; the rest is left for the next start.
    expect(updateRollups(store)).toBe(N - ROLLUP_SLICE);
  });
});

describe('devices going quiet', () => {
  it('names a few devices one by one, and a whole field of them in one line', () => {
    const dir = tempDir();
    const clock = new ManualClock(T0);
    const store = Store.open({ path: join(dir.dir, 's.db'), site: 't', clock });
    const lines: { msg: string; device?: string; devices?: number; first?: string[] }[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string }) });
    const staleness = new StalenessTracker(() => 60_000);
    const m = maintenanceOn(store, log, staleness, () => clock.now());
    try {
      for (const id of ['a', 'b']) staleness.seen(id, T0);
      for (let i = 0; i < 300; i++) staleness.seen(`space-${i}`, T0 + 30_000);
      clock.set(T0 + 61_000);
      m.sweepStale();
      expect(lines.map((l) => l.device)).toEqual(['a', 'b']);
      clock.set(T0 + 91_000);
      m.sweepStale();
      expect(lines).toHaveLength(3);
      expect(lines[2]).toMatchObject({ msg: '300 devices went quiet: their values are marked stale', devices: 300 });
      expect(lines[2]?.first).toHaveLength(10);
    } finally {
      store.close();
      dir.cleanup();
    }
  });
});
