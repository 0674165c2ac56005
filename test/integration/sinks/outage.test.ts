import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { configWith, dayStart, drained, gaugeValue, memoryLog, rounded, startSinks, storeSeries, vmSeries, writeDay } from './fixtures.js';

/**
 * The server goes away while samples keep coming in and comes back: everything arrives, nothing
 * twice (VictoriaMetrics runs with 1 ms dedup, InfluxDB's overwrite semantics), and the backlog
 * metric rises during the outage and falls back to zero.
 */
describe.skipIf(!VICTORIA_METRICS)('sink through a server outage', () => {
  const tmp = tempDir('fcgw-sink-outage-');
  let vm: VictoriaMetrics | undefined;
  afterAll(async () => {
    await vm?.stop();
    tmp.cleanup();
  });

  it('server stopped mid-stream and restarted: complete, once, backlog rose and fell', async () => {
    vm = await startVictoriaMetrics(tmp.dir);
    const store = Store.open({ path: join(tmp.dir, 'outage.db'), site: 'outage' });
    const { log, lines } = memoryLog();
    const { sinks, registry } = startSinks(
      configWith('outage', [
        { id: 'vm', type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'b', batch_size: 2000, flush_interval: '50ms', backoff_max: '400ms', timeout: '2s', start_from: 'earliest' },
      ]),
      store,
      log,
    );
    await sinks.start();

    // Live ingestion: one simulated hour every 30 ms, for the whole day.
    const start = dayStart();
    let hour = 0;
    const backlog: number[] = [];
    const ingest = setInterval(() => {
      if (hour >= 24) return;
      writeDay(store, { site: 'outage', start, devices: 4, stepMs: 60_000, from: hour / 24, to: (hour + 1) / 24 });
      hour++;
    }, 30);
    const sampleBacklog = setInterval(() => void gaugeValue(registry, 'fcgw_sink_backlog', { sink: 'vm', log: 'samples' }).then((v) => backlog.push(v)), 20);
    try {
      await waitFor(() => hour >= 4 && (store.getCursor('sink:vm')?.samples ?? 0) > 0, 10_000);
      await vm.stop();
      await waitFor(() => sinks.health()[0]?.state === 'backoff' && hour >= 16, 10_000);
      const during = await gaugeValue(registry, 'fcgw_sink_backlog', { sink: 'vm', log: 'samples' });
      expect(during).toBeGreaterThan(2000);
      expect(sinks.health()[0]?.lastError).toMatch(/^SINK_(NETWORK|TIMEOUT)/);
      await vm.start();
      await waitFor(() => hour >= 24 && drained(store, 'sink:vm'), 15_000);
      await waitFor(async () => (await gaugeValue(registry, 'fcgw_sink_backlog', { sink: 'vm', log: 'samples' })) === 0, 3_000);
    } finally {
      clearInterval(ingest);
      clearInterval(sampleBacklog);
    }
    const after = await gaugeValue(registry, 'fcgw_sink_backlog', { sink: 'vm', log: 'samples' });
    await sinks.stop();

    expect(Math.max(...backlog)).toBeGreaterThan(2000);
    expect(after).toBe(0);
    await vm.flush();
    const expected = storeSeries(store);
    expect(expected.get('pv_inverter_ac_power|pv-1')?.count).toBe(1440);
    expect(rounded(vmSeries(await vm.exportSeries('{site="outage"}')))).toEqual(rounded(expected));

    const errors = await registry.getSingleMetric('fcgw_sink_errors_total')?.get();
    expect(errors?.values.reduce((a, v) => a + v.value, 0)).toBeGreaterThan(0);
    // One warning when the outage starts and one line when delivery resumes, not one per retry.
    expect(lines().filter((l) => l['msg'] === 'sink delivering again').length).toBe(1);
    expect(lines().filter((l) => String(l['msg']).startsWith('sink cannot deliver')).length).toBeLessThan(5);
    store.close();
  });
});
