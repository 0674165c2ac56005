import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { configWith, drained, memoryLog, startSinks, writeApiServer, type WriteRequest } from './fixtures.js';

/**
 * What the influxdb2 sink puts on the wire. A body of 1,000 bytes or more is gzip (config `gzip`,
 * on by default), compressed at `gzip_level` (1–9, default 6), and says so in content-encoding; a
 * smaller one, or any with `gzip: false`, is plain text. Either way the lines are exactly the
 * encoded points, with the token and the write path of the InfluxDB v2 API. The sink compresses
 * the body itself and hands the bytes to the official client's transport, so this checks that
 * the transport sends them as they are. A stand-in server on loopback records the requests; the
 * real VictoriaMetrics reads the same bodies in victoria.test.ts.
 */
describe('influxdb2 sink request bodies', () => {
  const tmp = tempDir('fcgw-sink-body-');
  let server: Awaited<ReturnType<typeof writeApiServer>>;
  let url = '';
  const requests: WriteRequest[] = [];

  beforeAll(async () => {
    server = await writeApiServer((r, res) => {
      requests.push(r);
      res.writeHead(204).end();
    });
    url = server.url;
  });
  afterAll(async () => {
    await server?.close();
    tmp.cleanup();
  });

  const compressed = new Map<string, number>();
  const T0 = Date.UTC(2026, 0, 1);
  const samples = (n: number, from = 0): Sample[] =>
    Array.from({ length: n }, (_, i) => ({ site: 'body', device: `pv-${(from + i) % 7}`, class: 'pv_inverter', metric: 'power_ac', ts: T0 + (from + i) * 1000, value: from + i + 0.5, quality: 'good' }));
  const expected = (ss: Sample[]) => ss.map((s) => `pv_inverter,device=${s.device},site=body power_ac=${s.value as number} ${s.ts}`);

  it.each([
    ['gzip on (the default), a large batch', {}, 300, 'gzip'],
    ['gzip on, a batch under 1,000 bytes', {}, 3, 'identity'],
    ['gzip off', { gzip: false }, 300, 'identity'],
    ['gzip level 1', { gzip_level: 1 }, 300, 'gzip'],
    ['gzip level 9', { gzip_level: 9 }, 300, 'gzip'],
  ] as const)('%s', async (name, extra, n, encoding) => {
    requests.length = 0;
    const store = Store.open({ path: join(tmp.dir, `${name.replace(/\W+/g, '-')}.db`), site: 'body' });
    const written = samples(n);
    store.write(written);
    const { log } = memoryLog();
    const sink = { id: 'body', type: 'influxdb2', url, token: 'secret-token', org: 'fc', bucket: 'b', batch_size: 1000, flush_interval: '20ms', start_from: 'earliest', ...extra };
    const { sinks } = startSinks(configWith('body', [sink]), store, log);
    await sinks.start();
    try {
      await waitFor(() => drained(store, 'sink:body'), 5_000, 5);
      expect(requests, name).toHaveLength(1);
      const [r] = requests;
      expect(r).toMatchObject({ path: '/api/v2/write?org=fc&bucket=b&precision=ms', encoding, auth: 'Token secret-token' });
      expect(r?.lines).toEqual(expected(written));
      // Compressed, it is a fraction of the text (line protocol repeats itself).
      const textBytes = expected(written).join('\n').length;
      if (encoding === 'gzip') expect(r?.bytes).toBeLessThan(textBytes / 4);
      else expect(r?.bytes).toBe(textBytes);
      compressed.set(name, r?.bytes ?? NaN);
    } finally {
      await sinks.stop();
      store.close();
    }
  });

  it('gzip_level: 9 sends fewer bytes than 1 for the same lines, the default (6) in between or equal to 9', () => {
    const [one, six, nine] = ['gzip level 1', 'gzip on (the default), a large batch', 'gzip level 9'].map((k) => compressed.get(k) as number);
    expect(nine).toBeLessThan(one as number);
    expect(six).toBeLessThan(one as number);
    expect(six).toBeGreaterThanOrEqual(nine as number);
  });
});
