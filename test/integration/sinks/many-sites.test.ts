import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { bundleSinkChild, runSinkChild } from './child.js';
import { dayStart, rounded, storeSeries, vmSeries } from './fixtures.js';

/**
 * 20 gateways (processes) with different site ids and the same device ids write into one
 * VictoriaMetrics at once: the site tag keeps them apart, every site complete.
 */
describe.skipIf(!VICTORIA_METRICS)('20 sites into one time-series server', () => {
  const tmp = tempDir('fcgw-sink-sites-');
  let vm: VictoriaMetrics;
  let bundle: string;

  beforeAll(async () => {
    [vm, bundle] = await Promise.all([startVictoriaMetrics(tmp.dir), bundleSinkChild()]);
  });
  afterAll(async () => {
    await vm?.stop();
    if (bundle) rmSync(bundle, { force: true });
    tmp.cleanup();
  });

  it('every site arrives complete and apart', async () => {
    const sites = Array.from({ length: 20 }, (_, i) => `site-${String(i + 1).padStart(2, '0')}`);
    const start = dayStart();
    const children = sites.map((site) =>
      runSinkChild(bundle, {
        store: join(tmp.dir, `${site}.db`),
        site,
        generate: { start, devices: 2, stepMs: 300_000 },
        sinks: [{ id: 'central', type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'all-sites', flush_interval: '50ms', start_from: 'earliest' }],
        exitWhenDrained: true,
      }),
    );
    const results = await Promise.all(children.map((c) => c.exited));
    for (const r of results) expect(r.code, r.stderr).toBe(0);
    expect(results.map((r) => r.sent)).toEqual(sites.map(() => 2 * 7 * 288));

    await vm.flush();
    for (const site of sites) {
      const store = Store.open({ path: join(tmp.dir, `${site}.db`), site });
      const expected = storeSeries(store);
      store.close();
      expect(rounded(vmSeries(await vm.exportSeries(`{site="${site}"}`))), site).toEqual(rounded(expected));
    }
    const all = await vm.exportSeries('{__name__="pv_inverter_ac_power",device="pv-1"}');
    expect(all.map((s) => s.metric['site']).sort()).toEqual(sites);
  });
});
