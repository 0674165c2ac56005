import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { configWith, drained, memoryLog, startSinks } from './fixtures.js';

/**
 * A drain with full batches reads and encodes the next batch while the one before it is on the
 * wire, and still moves its cursor batch by batch: a refused request keeps its batch, the batch
 * read ahead of it is dropped and read again, and every point is accepted exactly once.
 * A plain HTTP server on loopback stands in for the InfluxDB v2 write API (it holds and refuses
 * requests on cue, which no real server does).
 */
describe('sink read-ahead', () => {
  const tmp = tempDir('fcgw-sink-ahead-');
  let server: Server;
  let url = '';
  const accepted: string[] = [];
  const bodies: string[][] = [];
  /** The next request is answered only when the test emits 'release' on its response. */
  let holdNext = false;
  const held: ServerResponse[] = [];
  const script: number[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const lines = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString().split('\n').filter(Boolean);
        bodies.push(lines);
        const status = script.shift() ?? 204;
        const answer = () => {
          if (status === 204) accepted.push(...lines);
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(status === 204 ? '' : JSON.stringify({ code: 'unavailable' }));
        };
        if (holdNext) {
          held.push(res);
          holdNext = false;
          res.once('release' as never, answer);
        } else answer();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  });
  afterAll(async () => {
    for (const res of held) res.emit('release' as never);
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    tmp.cleanup();
  });

  it('reads the next batch during a send; a refused batch drops what was read ahead; each point accepted once', async () => {
    const store = Store.open({ path: join(tmp.dir, 'ahead.db'), site: 'ahead' });
    const T0 = Date.UTC(2026, 0, 1);
    const samples: Sample[] = Array.from({ length: 1000 }, (_, i) => ({ site: 'ahead', device: `pv-${i % 10}`, class: 'pv_inverter', metric: 'power_ac', ts: T0 + i * 1000, value: i, quality: 'good' }));
    store.write(samples);
    const reads = vi.spyOn(store, 'samplesAfter');
    const { log } = memoryLog();
    const sink = { id: 'ahead', type: 'influxdb2', url, token: 't', org: 'fc', bucket: 'b', batch_size: 100, flush_interval: '20ms', backoff_max: '50ms', start_from: 'earliest' };
    const { sinks } = startSinks(configWith('ahead', [sink]), store, log);
    holdNext = true; // the first request waits for the test
    script.push(204, 503); // then the second batch is refused once
    await sinks.start();
    await waitFor(() => held.length === 1, 5_000, 5);
    // While batch 1 (seq 1–100) is unanswered, batch 2 (after seq 100) has been read already.
    await waitFor(() => reads.mock.calls.some(([after]) => after === 100), 5_000, 5);
    expect(store.getCursor('sink:ahead')).toEqual({ samples: 0, events: 0 });
    held[0]?.emit('release' as never);
    await waitFor(() => drained(store, 'sink:ahead'), 10_000, 5);
    await sinks.stop();

    // The refused batch 2 was sent again whole, and batch 3 (read ahead of the refusal) after it.
    expect(bodies.length).toBe(11);
    expect(bodies[1]).toEqual(bodies[2]);
    expect(new Set(accepted).size).toBe(1000);
    expect(accepted.length).toBe(1000);
    expect(accepted.map((l) => Number(l.split(' ')[2]) - T0)).toEqual(samples.map((s) => s.ts - T0));
    store.close();
  });
});
