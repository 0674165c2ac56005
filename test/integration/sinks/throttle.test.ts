import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { configWith, dayStart, drained, memoryLog, rounded, startSinks, storeSeries, vmSeries, writeDay } from './fixtures.js';

/**
 * A server that throttles (429 + Retry-After) and then fails (503) before accepting: the sink
 * waits at least as long as Retry-After although its own backoff is shorter, keeps the batch,
 * and everything lands once. No real server here throttles on demand, so a small proxy in front
 * of a real VictoriaMetrics answers the first requests itself and forwards the rest untouched.
 */
describe.skipIf(!VICTORIA_METRICS)('sink against a throttling server', () => {
  const tmp = tempDir('fcgw-sink-throttle-');
  let vm: VictoriaMetrics;
  let proxy: Server;
  let proxyUrl = '';
  const answers: { at: number; status: number }[] = [];
  const script = [429, 429, 503];

  beforeAll(async () => {
    vm = await startVictoriaMetrics(tmp.dir);
    proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const scripted = script.shift();
        if (scripted !== undefined) {
          answers.push({ at: performance.now(), status: scripted });
          res.writeHead(scripted, scripted === 429 ? { 'retry-after': '1', 'content-type': 'application/json' } : { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: scripted === 429 ? 'too many requests' : 'unavailable' }));
          return;
        }
        const headers: Record<string, string> = {};
        for (const h of ['content-type', 'content-encoding', 'authorization']) {
          const v = req.headers[h];
          if (typeof v === 'string') headers[h] = v;
        }
        void fetch(`${vm.url}${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) }).then(async (up) => {
          answers.push({ at: performance.now(), status: up.status });
          res.writeHead(up.status);
          res.end(await up.text());
        });
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const addr = proxy.address();
    proxyUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((r) => proxy?.close(r));
    await vm?.stop();
    tmp.cleanup();
  });

  it('honours Retry-After, retries 5xx, keeps the batch, delivers once', async () => {
    const store = Store.open({ path: join(tmp.dir, 'throttle.db'), site: 'throttle' });
    writeDay(store, { site: 'throttle', start: dayStart(), devices: 2, stepMs: 600_000 });
    const { log } = memoryLog();
    const sink = { id: 'vm', type: 'influxdb2', url: proxyUrl, token: 't', org: 'fc', bucket: 'b', flush_interval: '20ms', backoff_max: '100ms', start_from: 'earliest' };
    const { sinks, registry } = startSinks(configWith('throttle', [sink]), store, log);
    await sinks.start();
    await waitFor(() => sinks.health()[0]?.lastError?.startsWith('SINK_THROTTLED'), 5_000, 5);
    expect(store.getCursor('sink:vm')).toEqual({ samples: 0, events: 0 });
    await waitFor(() => drained(store, 'sink:vm'), 10_000);
    await sinks.stop();

    expect(answers.map((a) => a.status)).toEqual([429, 429, 503, 204]);
    const gaps = answers.slice(1).map((a, i) => a.at - (answers[i]?.at ?? 0));
    // After each 429 the sink waited the server's second, not its own 100 ms backoff; after the 503 only its backoff.
    expect(gaps[0]).toBeGreaterThanOrEqual(990);
    expect(gaps[1]).toBeGreaterThanOrEqual(990);
    expect(gaps[2]).toBeLessThan(900);
    const errors = await registry.getSingleMetric('fcgw_sink_errors_total')?.get();
    expect(Object.fromEntries(errors?.values.map((v) => [v.labels['code'], v.value]) ?? [])).toEqual({ SINK_THROTTLED: 2, SINK_SERVER: 1 });

    await vm.flush();
    expect(rounded(vmSeries(await vm.exportSeries('{site="throttle"}')))).toEqual(rounded(storeSeries(store)));
    store.close();
  });
});
