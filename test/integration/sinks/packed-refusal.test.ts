import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { configWith, drained, memoryLog, startSinks, writeApiServer } from './fixtures.js';

/**
 * An InfluxDB writer sends a batch as one packed body and keeps only that body while the request
 * is on the wire. When the server refuses points (HTTP 400), the runner reads the batch's range
 * of the log again and halves it until each refused point stands alone. Here a sample of that
 * batch is corrected (same series and time, another value) while the request is held: the
 * correction has a new log position past the batch, so the re-read leaves the old row out, the
 * refused point is dead-lettered alone, every other point lands, and the corrected value arrives
 * once, in a later batch.
 * A plain HTTP server on loopback stands in for the InfluxDB v2 write API: it refuses any body
 * holding a point whose value is 666, as InfluxDB refuses a whole body for one bad point.
 */
describe('a refused packed batch', () => {
  const tmp = tempDir('fcgw-sink-packed-');
  let server: Awaited<ReturnType<typeof writeApiServer>>;
  let url = '';
  const accepted: string[] = [];
  let requests = 0;
  let hold: ((release: () => void) => void) | undefined;

  beforeAll(async () => {
    server = await writeApiServer(({ lines }, res) => {
      requests++;
      const answer = () => {
        if (lines.some((l) => / power_ac=666 /.test(l))) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'invalid', message: 'unable to parse points: value 666 refused' }));
          return;
        }
        accepted.push(...lines);
        res.writeHead(204).end();
      };
      const h = hold;
      hold = undefined;
      if (h) h(answer);
      else answer();
    });
    url = server.url;
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  it('is read again from the log: the refused point alone dead-lettered, a correction made meanwhile sent once, the rest delivered', async () => {
    const T0 = Date.UTC(2026, 0, 1);
    const sample = (i: number, value: number): Sample => ({ site: 'packed', device: `pv-${i % 4}`, class: 'pv_inverter', metric: 'power_ac', ts: T0 + i * 1000, value, quality: 'good' });
    const store = Store.open({ path: join(tmp.dir, 'packed.db'), site: 'packed' });
    // 40 points in one batch; point 13 is one the server refuses, point 27 gets corrected.
    store.write(Array.from({ length: 40 }, (_, i) => sample(i, i === 13 ? 666 : i)));
    let release: (() => void) | undefined;
    hold = (r) => void (release = r);
    const { log } = memoryLog();
    const sink = { id: 'p', type: 'influxdb2', url, token: 't', org: 'fc', bucket: 'b', batch_size: 1000, flush_interval: '20ms', backoff_max: '50ms', start_from: 'earliest' };
    const { sinks } = startSinks(configWith('packed', [sink]), store, log);
    await sinks.start();
    try {
      await waitFor(() => release !== undefined, 5_000, 5);
      expect(store.write([sample(27, 2700)])).toMatchObject({ samples: 0 });
      release?.();
      await waitFor(() => drained(store, 'sink:p'), 5_000, 5);

      const line = (i: number, v: number) => `pv_inverter,device=pv-${i % 4},site=packed power_ac=${v} ${T0 + i * 1000}`;
      const expected = [...Array.from({ length: 40 }, (_, i) => i).filter((i) => i !== 13 && i !== 27).map((i) => line(i, i)), line(27, 2700)];
      expect([...accepted].sort()).toEqual(expected.sort());
      // The row replaced while its batch was on the wire was not sent with its old value.
      expect(accepted).not.toContain(line(27, 27));
      const letters = sinks.deadLetters.list('p');
      expect(letters.map((l) => [l.payload, l.status])).toEqual([[line(13, 666), 400]]);
      expect(letters[0]?.reason).toMatch(/value 666 refused/);
      // The whole batch once, then halves down to the refused point: a few requests, not one a point.
      expect(requests).toBeLessThan(20);
    } finally {
      await sinks.stop();
      store.close();
    }
  });
});
