import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../../gateway/store/store.js';
import type { Sample } from '../../../gateway/model/types.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { INFLUXD, startInfluxdb1, type Influxdb1 } from '../../helpers/servers.js';
import { configWith, dayStart, drained, influx1Series, memoryLog, rounded, startSinks, storeSeries, writeDay } from './fixtures.js';

/** The InfluxDB 1.x path (/write?db=&precision=ms with fetch) into Debian's influxd 1.6. */
describe.skipIf(!INFLUXD)('influxdb1 sink → influxd 1.x', () => {
  const tmp = tempDir('fcgw-sink-ix-');
  let ix: Influxdb1;

  beforeAll(async () => {
    ix = await startInfluxdb1(tmp.dir);
    await ix.createDatabase('community');
  });
  afterAll(async () => {
    await ix?.stop();
    tmp.cleanup();
  });

  const influx1 = (extra: Record<string, unknown> = {}) => ({
    type: 'influxdb1',
    url: ix.url,
    database: 'community',
    flush_interval: '100ms',
    backoff_max: '300ms',
    start_from: 'earliest',
    ...extra,
  });

  it('delivers a simulated day completely: per-series counts and sums equal the store', async () => {
    const store = Store.open({ path: join(tmp.dir, 'day.db'), site: 'yuhang' });
    writeDay(store, { site: 'yuhang', start: dayStart(), devices: 3, stepMs: 120_000 });
    const { log } = memoryLog();
    const { sinks } = startSinks(configWith('yuhang', [influx1({ id: 'ix' })]), store, log);
    await sinks.start();
    await waitFor(() => drained(store, 'sink:ix'), 15_000);
    await sinks.stop();

    const expected = storeSeries(store);
    const actual = await influx1Series(ix, 'community', 'yuhang', expected);
    expect(rounded(actual)).toEqual(rounded(expected));
    // Non-good quality rides in the same point as a string field.
    const q = await ix.query('community', `SELECT soc, quality, quality_reason FROM battery WHERE site = 'yuhang' AND device = 'bat-1' AND quality = 'uncertain' LIMIT 1`);
    expect(q[0]?.values[0]?.slice(2)).toEqual(['uncertain', 'out_of_range']);
    store.close();
  });

  it('a field type conflict does not block the sink: bad points dead-lettered with the reason, good ones arrive', async () => {
    const store = Store.open({ path: join(tmp.dir, 'conflict.db'), site: 'conflict' });
    const t0 = dayStart();
    const sample = (i: number, value: Sample['value']): Sample => ({ site: 'conflict', device: 'meter-1', class: 'grid_meter', metric: 'power', ts: t0 + i * 1000, value, quality: 'good' });
    // The field becomes a float in this shard first.
    store.write(Array.from({ length: 200 }, (_, i) => sample(i, i)));
    const { log, lines } = memoryLog();
    const { sinks, registry } = startSinks(configWith('conflict', [influx1({ id: 'ix', batch_size: 1000 })]), store, log);
    await sinks.start();
    await waitFor(() => drained(store, 'sink:ix'), 10_000);

    // A buggy profile sends text for a numeric metric: 5 bad points among 800 good ones in one batch.
    const bad = new Set([250, 400, 401, 777, 999]);
    store.write(Array.from({ length: 800 }, (_, k) => (bad.has(200 + k) ? sample(200 + k, 'n/a') : sample(200 + k, 200 + k))));
    await waitFor(() => drained(store, 'sink:ix'), 15_000);

    const count = await ix.query('community', `SELECT count(power), sum(power) FROM grid_meter WHERE site = 'conflict'`);
    const good = Array.from({ length: 1000 }, (_, i) => i).filter((i) => !bad.has(i));
    expect(count[0]?.values[0]?.slice(1)).toEqual([good.length, good.reduce((a, b) => a + b, 0)]);

    const letters = sinks.deadLetters.list('ix');
    expect(letters.map((l) => l.ts - t0).sort((a, b) => a - b)).toEqual([...bad].map((i) => i * 1000));
    for (const l of letters) {
      expect(l.status).toBe(400);
      expect(l.reason).toMatch(/field type conflict/);
      expect(l.payload).toMatch(/^grid_meter,device=meter-1,site=conflict power="n\/a" \d+$/);
    }
    expect(sinks.health()[0]).toMatchObject({ state: 'ok', backlog: 0, deadLetters: 5 });
    const dl = await registry.getSingleMetric('fcgw_sink_dead_letters_total')?.get();
    expect(dl?.values[0]?.value).toBe(5);
    expect(lines().filter((l) => String(l['msg']).startsWith('sink dead-lettered')).length).toBe(5);
    await sinks.stop();
    store.close();
  });

  it('a missing database is a configuration error: backs off, keeps everything, delivers once it exists', async () => {
    const store = Store.open({ path: join(tmp.dir, 'nodb.db'), site: 'nodb' });
    writeDay(store, { site: 'nodb', start: dayStart(), devices: 1, stepMs: 3_600_000 });
    const { log } = memoryLog();
    const { sinks } = startSinks(configWith('nodb', [influx1({ id: 'late', database: 'created_later' })]), store, log);
    await sinks.start();
    await waitFor(() => sinks.health()[0]?.state === 'backoff', 5_000);
    expect(sinks.health()[0]?.lastError).toMatch(/SINK_CONFIG: HTTP 404.*database not found/);
    expect(store.getCursor('sink:late')).toEqual({ samples: 0, events: 0 });
    await ix.createDatabase('created_later');
    await waitFor(() => drained(store, 'sink:late'), 10_000);
    const n = await ix.query('created_later', `SELECT count(ac_power) FROM pv_inverter WHERE site = 'nodb'`);
    expect(n[0]?.values[0]?.[1]).toBe(24);
    expect(sinks.health()[0]).toMatchObject({ state: 'ok', deadLetters: 0 });
    await sinks.stop();
    store.close();
  });
});
