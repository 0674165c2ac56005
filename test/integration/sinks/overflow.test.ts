import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import type { LiveMessage } from '../../../gateway/api/live.js';
import { parseConfig } from '../../../gateway/config/load.js';
import type { Maintenance } from '../../../gateway/runtime/maintenance.js';
import { updateRollups } from '../../../gateway/store/maintenance.js';
import { Store } from '../../../gateway/store/store.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { SAMPLES_ONLY, startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { dayStart, memoryLog, rounded, storeSeries, vmSeries, writeDay } from './fixtures.js';

const ENV = { FCGW_SITE_SECRET: 'test-secret-0123456789abcdef' };

/**
 * The disk cap in the running gateway while its sink cannot deliver: the store first gives up
 * local history the sink already has, then (only because the cap forces it) the oldest unsent
 * samples, counted in /metrics, logged, raised as an alert and shown in /api/health. When the
 * server is back, the sink delivers everything that is left, once.
 */
describe.skipIf(!VICTORIA_METRICS)('store at max_disk with a sink that is behind', () => {
  const tmp = tempDir('fcgw-sink-overflow-');
  let vm: VictoriaMetrics | undefined;
  let gw: Gateway | undefined;
  afterAll(async () => {
    await gw?.stop();
    await vm?.stop();
    tmp.cleanup();
  });

  const config = (path: string, url: string, maxDisk: number) =>
    parseConfig(
      JSON.stringify({
        version: 1,
        site: { id: 'overflow' },
        store: { path, max_disk: `${maxDisk}B`, overflow: 'drop_oldest' },
        api: { host: '127.0.0.1', port: 0 },
        sinks: [{ id: 'vm', type: 'influxdb2', url, token: 't', org: 'fc', bucket: 'b', flush_interval: '20ms', backoff_max: '200ms', timeout: '1s', start_from: 'earliest' }],
      }),
      'overflow.yaml',
      {},
    );
  const metric = async (api: string, name: string, labels: string) => {
    const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(await (await fetch(`${api}/metrics`)).text());
    return m ? Number(m[1]) : 0;
  };

  it('drops sent history first, then unsent samples loudly; the sink delivers the rest once', async () => {
    const path = join(tmp.dir, 'gateway.db');
    const seed = Store.open({ path, site: 'overflow' });
    writeDay(seed, { site: 'overflow', start: dayStart(), devices: 4, stepMs: 15_000 });
    updateRollups(seed);
    const total = seed.maxSeq().samples;
    // The first half went out before the server became unreachable.
    seed.setCursor('sink:vm', { samples: total / 2, events: 0 });
    const size = seed.sizeBytes();
    seed.close();

    const dead = `http://127.0.0.1:${await freePort()}`;
    const { log, lines } = memoryLog();
    gw = Gateway.create({ config: config(path, dead, Math.floor(size * 0.5)), log, processMetrics: false, env: ENV });
    const alerts: LiveMessage[] = [];
    gw.live.subscribe({ filter: (m) => m.kind === 'alert', send: (m) => alerts.push(m) > 0, close: () => undefined });
    await gw.start();
    const api = gw.apiUrl as string;
    await waitFor(() => (gw?.health().sinks[0] as { state?: string } | undefined)?.state === 'backoff', 5_000);

    (gw as unknown as { maintenance: Maintenance }).maintenance.retention();

    // Everything the sink had, then unsent samples from the oldest on.
    expect(await metric(api, 'fcgw_store_dropped_total', 'reason="max_disk_sent"')).toBe(total / 2);
    const unsent = await metric(api, 'fcgw_store_dropped_total', 'reason="max_disk"');
    expect(unsent).toBeGreaterThan(0);
    const left = gw.store.samplesAfter(0, 1);
    expect(left[0]?.seq).toBe(total / 2 + unsent + 1);
    expect(gw.store.counts().samples).toBe(total - total / 2 - unsent);
    expect(alerts.map((a) => a.data)).toEqual([expect.objectContaining({ kpi: 'store_max_disk', status: 'raised', dropped: unsent })]);
    expect(lines().filter((l) => l['level'] === 50 && String(l['msg']).startsWith('store reached max_disk')).map((l) => l['samples'])).toEqual([unsent]);
    // Back under the cap at once; health stays degraded for an hour after a loss and says what was lost.
    const health = (await (await fetch(`${api}/api/health`)).json()) as { status: string; store: { over_cap: boolean; bytes: number } };
    expect(health.status).toBe('degraded');
    expect(health.store).toMatchObject({ over_cap: false, last_loss: { samples: unsent, events: 0 } });
    expect(health.store.bytes).toBeLessThanOrEqual(size * 0.5);
    await gw.stop();

    // The server is reachable again: the same sink (same id, same cursor) sends what survived, once.
    vm = await startVictoriaMetrics(tmp.dir);
    gw = Gateway.create({ config: config(path, vm.url, 1e9), log, processMetrics: false, env: ENV });
    await gw.start();
    await waitFor(() => {
      const c = gw?.store.getCursor('sink:vm');
      const max = gw?.store.maxSeq();
      return c && max && c.samples >= max.samples && c.events >= max.events;
    }, 10_000);
    expect(await metric(gw.apiUrl as string, 'fcgw_sink_sent_total', 'sink="vm",log="samples"')).toBe(total - total / 2 - unsent);
    await gw.stop();
    gw = undefined;

    const store = Store.open({ path, site: 'overflow' });
    await vm.flush();
    expect(rounded(vmSeries(await vm.exportSeries(`{site="overflow",${SAMPLES_ONLY}}`)))).toEqual(rounded(storeSeries(store)));
    store.close();
  }, 30_000);
});
