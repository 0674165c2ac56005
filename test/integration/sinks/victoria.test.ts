import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { configWith, dayStart, drained, memoryLog, rounded, startSinks, storeSeries, vmSeries, writeDay } from './fixtures.js';
import { rawSeries } from '../../../gateway/store/queries.js';

/**
 * The InfluxDB v2 write path (influxdb2 sink, @influxdata/influxdb-client, gzip) into a real
 * VictoriaMetrics: a simulated day lands completely, series by series.
 */
describe.skipIf(!VICTORIA_METRICS)('influxdb2 sink → VictoriaMetrics', () => {
  const tmp = tempDir('fcgw-sink-vm-');
  let vm: VictoriaMetrics;

  beforeAll(async () => {
    vm = await startVictoriaMetrics(tmp.dir);
  });
  afterAll(async () => {
    await vm?.stop();
    tmp.cleanup();
  });

  const influx2 = (extra: Record<string, unknown> = {}) => ({
    type: 'influxdb2',
    url: vm.url,
    token: 'unused-by-victoria-metrics',
    org: 'fc',
    bucket: 'community',
    flush_interval: '100ms',
    ...extra,
  });

  it('delivers a simulated day completely: per-series counts and sums equal the store', async () => {
    const store = Store.open({ path: join(tmp.dir, 'day.db'), site: 'lianhua' });
    const start = dayStart();
    const written = writeDay(store, { site: 'lianhua', start, devices: 6, stepMs: 60_000 });
    expect(written.samples).toBe(6 * 7 * 1440);

    const { log } = memoryLog();
    const { sinks, registry } = startSinks(configWith('lianhua', [influx2({ id: 'vm', start_from: 'earliest' })]), store, log);
    await sinks.start();
    await waitFor(() => drained(store, 'sink:vm'), 15_000);
    await sinks.stop();
    await vm.flush();

    const expected = storeSeries(store);
    const actual = vmSeries(await vm.exportSeries('{site="lianhua"}'));
    expect(rounded(actual)).toEqual(rounded(expected));
    expect(expected.get('pv_inverter_ac_power|pv-1')?.count).toBe(1440);
    expect(expected.get('parking_garage_vehicle_entry|gate-1')?.count).toBe(Math.ceil(1440 / 7));

    // Static device tags ride on every point of their device.
    const wm = await vm.exportSeries('{__name__="water_meter_flow",device="wm-2"}');
    expect(wm[0]?.metric).toMatchObject({ site: 'lianhua', device: 'wm-2', water_type: 'reclaimed', building: 'B 2' });
    // Quality that is not good travels in the same point (VictoriaMetrics keeps string fields as 0-valued series).
    const uncertain = {
      n: store
        .allSeries()
        .filter((x) => x.device === 'bat-1')
        .flatMap((x) => rawSeries(store, 'bat-1', x.metric, 0, Number.MAX_SAFE_INTEGER))
        .filter(([, , quality]) => quality === 'uncertain').length,
    };
    const q = await vm.exportSeries('{__name__="battery_quality",device="bat-1"}');
    expect(q[0]?.values.length).toBe(uncertain.n);

    const health = sinks.health();
    expect(health).toEqual([]);
    const sent = await registry.getSingleMetric('fcgw_sink_sent_total')?.get();
    expect(sent?.values.find((v) => v.labels['log'] === 'samples')?.value).toBe(written.samples);
    store.close();
  });

  it('reports health while running: ok, backlog 0, last acknowledgement', async () => {
    const store = Store.open({ path: join(tmp.dir, 'health.db'), site: 'health-site' });
    writeDay(store, { site: 'health-site', start: dayStart(), devices: 1, stepMs: 600_000 });
    const { log } = memoryLog();
    const { sinks } = startSinks(configWith('health-site', [influx2({ id: 'vm', start_from: 'earliest' })]), store, log);
    await sinks.start();
    await waitFor(() => drained(store, 'sink:vm'), 10_000);
    await waitFor(() => sinks.health()[0]?.backlog === 0, 5_000);
    const [h] = sinks.health();
    expect(h).toMatchObject({ id: 'vm', type: 'influxdb2', state: 'ok', backlog: 0, backlogAge: 0, lastError: null, deadLetters: 0 });
    expect(Date.parse(h?.lastAck ?? '')).toBeGreaterThan(Date.now() - 60_000);
    await sinks.stop();
    await sinks.stop();
    expect(sinks.health()).toEqual([]);
    store.close();
  });

  it('backfills a sink added later from start_from (ISO), and "now" sends only what comes after', async () => {
    const store = Store.open({ path: join(tmp.dir, 'backfill.db'), site: 'backfill' });
    const start = dayStart();
    writeDay(store, { site: 'backfill', start, devices: 1, stepMs: 300_000 });
    const noon = new Date(start + 12 * 3_600_000).toISOString();
    const { log } = memoryLog();
    const { sinks } = startSinks(
      configWith('backfill', [
        influx2({ id: 'from-noon', start_from: noon, org: 'a' }),
        influx2({ id: 'from-now', start_from: 'now', org: 'b' }),
      ]),
      store,
      log,
    );
    await sinks.start();
    await waitFor(() => drained(store, 'sink:from-noon') && drained(store, 'sink:from-now'), 10_000);
    await vm.flush();
    const ac = await vm.exportSeries('{__name__="pv_inverter_ac_power",site="backfill"}');
    expect(ac[0]?.timestamps.length).toBe(144);
    expect(Math.min(...(ac[0]?.timestamps ?? []))).toBe(Date.parse(noon));

    // "now": only samples written after the sink started.
    const late = start + DAY_MS - 1000;
    store.write([{ site: 'backfill', device: 'late-1', class: 'grid_meter', metric: 'power', ts: late, value: 42, quality: 'good' }]);
    sinks.notify();
    await waitFor(() => drained(store, 'sink:from-now') && drained(store, 'sink:from-noon'), 10_000);
    await sinks.stop();
    await vm.flush();
    const lateSeries = await vm.exportSeries('{__name__="grid_meter_power",site="backfill"}');
    expect(lateSeries.map((s) => s.values)).toEqual([[42]]);
    store.close();
  });
});

const DAY_MS = 86_400_000;
