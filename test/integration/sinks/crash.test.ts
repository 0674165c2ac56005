import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../gateway/store/store.js';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { SAMPLES_ONLY, startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { dayStart, rounded, storeSeries, vmSeries, writeDay } from './fixtures.js';

const BIN = join(import.meta.dirname, '../../../bin/fcgw.js');
const SECRET = { FCGW_SITE_SECRET: 'test-secret-0123456789abcdef' };

/**
 * kill -9 of the real gateway process (`fcgw start`) while its sink drains a backlog: the
 * restarted process resumes from the durable cursor (it sends exactly what was after it), and
 * nothing is lost.
 */
describe.skipIf(!VICTORIA_METRICS)('gateway killed with SIGKILL during a sink drain', () => {
  const tmp = tempDir('fcgw-sink-crash-');
  let vm: VictoriaMetrics;

  beforeAll(async () => {
    vm = await startVictoriaMetrics(tmp.dir);
  });
  afterAll(async () => {
    await vm?.stop();
    tmp.cleanup();
  });

  it('resumes from its cursor after the restart; every series complete', async () => {
    const path = join(tmp.dir, 'gateway.db');
    const store = Store.open({ path, site: 'crash' });
    // A backlog the gateway finds when it starts (as after a long outage).
    writeDay(store, { site: 'crash', start: dayStart(), devices: 3, stepMs: 30_000 });
    const max = store.maxSeq();
    expect(max.samples).toBe(3 * 7 * 2880);

    const configFile = join(tmp.dir, 'crash.yaml');
    // Small batches so the drain takes long enough to be interrupted.
    writeFileSync(
      configFile,
      [
        'version: 1',
        'site: { id: crash }',
        `store: { path: "${path}" }`,
        'api: { host: 127.0.0.1, port: 0 }',
        'logging: { level: warn }',
        'sinks:',
        `  - { id: vm, type: influxdb2, url: "${vm.url}", token: t, org: fc, bucket: b, batch_size: 200, flush_interval: 50ms, start_from: earliest }`,
        '',
      ].join('\n'),
    );

    const first = spawn(process.execPath, [BIN, 'start', '-c', configFile], { env: { ...process.env, ...SECRET }, stdio: ['ignore', 'ignore', 'pipe'] });
    let firstErr = '';
    first.stderr.on('data', (c: Buffer) => (firstErr += c.toString()));
    const firstExit = new Promise<NodeJS.Signals | null>((r) => first.on('exit', (_code, signal) => r(signal)));
    await waitFor(() => (store.getCursor('sink:vm')?.samples ?? 0) > max.samples * 0.15, 15_000, 2).catch((err: Error) => {
      first.kill('SIGKILL');
      throw new Error(`${err.message}\n${firstErr}`);
    });
    first.kill('SIGKILL');
    expect(await firstExit).toBe('SIGKILL');
    const atKill = store.getCursor('sink:vm') ?? { samples: 0, events: 0 };
    expect(atKill.samples).toBeGreaterThan(0);
    expect(atKill.samples).toBeLessThan(max.samples);

    const second = await startGatewayProcess(configFile, SECRET);
    try {
      await waitFor(() => {
        const c = store.getCursor('sink:vm');
        return c && c.samples >= max.samples && c.events >= max.events;
      }, 15_000);
      // It started where the cursor stood, not from the beginning.
      const metrics = await (await fetch(`${second.apiUrl}/metrics`)).text();
      const sent = /^fcgw_sink_sent_total\{sink="vm",log="samples"\} (\d+)$/m.exec(metrics)?.[1];
      expect(Number(sent)).toBe(max.samples - atKill.samples);
    } finally {
      second.proc.kill('SIGTERM');
    }
    expect((await second.exited).code, second.stderr()).toBe(0);
    expect(store.getCursor('sink:vm')).toEqual(max);

    await vm.flush();
    const expected = storeSeries(store);
    expect(rounded(vmSeries(await vm.exportSeries(`{site="crash",${SAMPLES_ONLY}}`)))).toEqual(rounded(expected));
    store.close();
  }, 40_000);
});
