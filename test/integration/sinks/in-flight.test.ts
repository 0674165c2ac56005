import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { configWith, drained, memoryLog, startSinks, writeApiServer } from './fixtures.js';

/**
 * A drain with full batches keeps up to the writer's in-flight limit (4 for InfluxDB) on the
 * wire at once, and still moves its cursor batch by batch, in order: batches acknowledged after
 * one that is still unanswered do not move it, a refused batch is sent again with everything
 * after it (InfluxDB writes are idempotent, so a batch that landed twice is one point per
 * series and time), and every point is accepted.
 * A server on loopback (writeApiServer) stands in for the InfluxDB v2 write API: it holds and
 * refuses requests on cue, which no real server does.
 */
describe('sink requests in flight', () => {
  const tmp = tempDir('fcgw-sink-flight-');
  let server: Awaited<ReturnType<typeof writeApiServer>>;
  let url = '';
  const accepted: string[] = [];
  const bodies: string[][] = [];
  /** Requests run concurrently and may arrive in any order, so a batch is picked by its first line's time. */
  const T0 = Date.UTC(2026, 0, 1);
  const firstTs = (b: string[]) => Number(b[0]?.split(' ')[2]) - T0;
  /** The batch starting at this time is answered only when the test emits 'release' on its response. */
  let holdAt: number | undefined;
  const held: ServerResponse[] = [];
  /** The batch starting at this time is refused (503) once. */
  let refuseAt: number | undefined;

  beforeAll(async () => {
    server = await writeApiServer((r, res) => {
      const lines = r.lines.filter(Boolean);
      bodies.push(lines);
      const status = firstTs(lines) === refuseAt ? 503 : 204;
      if (status === 503) refuseAt = undefined;
      const answer = () => {
        if (status === 204) accepted.push(...lines);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(status === 204 ? '' : JSON.stringify({ code: 'unavailable' }));
      };
      if (firstTs(lines) === holdAt) {
        held.push(res);
        holdAt = undefined;
        res.once('release' as never, answer);
      } else answer();
    });
    url = server.url;
  });
  afterAll(async () => {
    for (const res of held) res.emit('release' as never);
    await server?.close();
    tmp.cleanup();
  });

  it('several batches on the wire; the cursor waits for the oldest; a refusal resends from there; every point accepted', async () => {
    const store = Store.open({ path: join(tmp.dir, 'flight.db'), site: 'flight' });
    const samples: Sample[] = Array.from({ length: 1000 }, (_, i) => ({ site: 'flight', device: `pv-${i % 10}`, class: 'pv_inverter', metric: 'power_ac', ts: T0 + i * 1000, value: i, quality: 'good' }));
    store.write(samples);
    const { log } = memoryLog();
    const sink = { id: 'flight', type: 'influxdb2', url, token: 't', org: 'fc', bucket: 'b', batch_size: 100, flush_interval: '20ms', backoff_max: '50ms', start_from: 'earliest' };
    const { sinks } = startSinks(configWith('flight', [sink]), store, log);
    holdAt = 0; // the first batch waits for the test
    refuseAt = 100_000; // the second is refused once; the third and fourth are accepted at once
    await sinks.start();
    // Batch 1 unanswered, batches 2–4 on the wire beside it (2 refused, 3 and 4 accepted): four
    // requests, and the cursor has not moved, because the oldest batch is not acknowledged.
    await waitFor(() => bodies.length === 4, 5_000, 5);
    await new Promise((r) => setTimeout(r, 100));
    expect(bodies.length).toBe(4);
    expect(accepted.length).toBe(200);
    expect(store.getCursor('sink:flight')).toEqual({ samples: 0, events: 0 });
    held[0]?.emit('release' as never);
    await waitFor(() => drained(store, 'sink:flight'), 10_000, 5);
    await sinks.stop();

    // Batch 1 moved the cursor to 100; batch 2 had been refused, so nothing more left until the
    // backoff, then batches 2 to 10 were sent (3 and 4 landed twice: the same points).
    const starts = (from: number, to: number) => bodies.slice(from, to).map(firstTs).sort((a, b) => a - b);
    expect(starts(0, 4)).toEqual([0, 100_000, 200_000, 300_000]);
    // After the backoff: every batch from 2 on, once each (the window slides on, so batch 6 may
    // reach the server before batch 5: compared as a set).
    expect(starts(4, bodies.length)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((b) => b * 100_000));
    expect(bodies.length).toBe(4 + 9);
    expect(new Set(accepted).size).toBe(1000);
    expect(accepted.length).toBe(1200);
    expect([...new Set(accepted)].map((l) => Number(l.split(' ')[2]) - T0).sort((a, b) => a - b)).toEqual(samples.map((s) => s.ts - T0));
    expect(store.getCursor('sink:flight')).toEqual({ samples: 1000, events: 0 });
    store.close();
  });
});
