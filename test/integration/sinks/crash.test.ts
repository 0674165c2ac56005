import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { bundleSinkChild, runSinkChild } from './child.js';
import { dayStart, rounded, storeSeries, vmSeries, writeDay } from './fixtures.js';

/**
 * kill -9 of the gateway while a sink drains its backlog: the restarted process resumes from
 * the durable cursor (it sends exactly what was after it), and nothing is lost.
 */
describe.skipIf(!VICTORIA_METRICS)('sink killed with SIGKILL during a drain', () => {
  const tmp = tempDir('fcgw-sink-crash-');
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

  it('resumes from its cursor after the restart; every series complete', async () => {
    const path = join(tmp.dir, 'gateway.db');
    const store = Store.open({ path, site: 'crash' });
    writeDay(store, { site: 'crash', start: dayStart(), devices: 6, stepMs: 30_000 });
    const max = store.maxSeq();
    expect(max.samples).toBe(6 * 7 * 2880);

    // Small batches so the drain takes long enough to be interrupted.
    const sinks = [{ id: 'vm', type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'b', batch_size: 500, flush_interval: '50ms', start_from: 'earliest' }];
    const first = runSinkChild(bundle, { store: path, site: 'crash', sinks });
    await first.started;
    await waitFor(() => (store.getCursor('sink:vm')?.samples ?? 0) > max.samples * 0.2, 15_000, 2);
    first.proc.kill('SIGKILL');
    const killed = await first.exited;
    expect(killed.signal).toBe('SIGKILL');
    const atKill = store.getCursor('sink:vm');
    expect(atKill?.samples).toBeGreaterThan(0);
    expect(atKill?.samples).toBeLessThan(max.samples);

    const second = runSinkChild(bundle, { store: path, site: 'crash', sinks, exitWhenDrained: true });
    const done = await second.exited;
    expect(done.code, done.stderr).toBe(0);
    // It started where the cursor stood, not from the beginning.
    expect(done.sent).toBe(max.samples - (atKill?.samples ?? 0));
    expect(store.getCursor('sink:vm')).toEqual(max);

    await vm.flush();
    const expected = storeSeries(store);
    expect(rounded(vmSeries(await vm.exportSeries('{site="crash"}')))).toEqual(rounded(expected));
    store.close();
  });
});
