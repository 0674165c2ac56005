import { createServer, type IncomingMessage, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { runStatus } from '../../../gateway/cli/status.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { Store } from '../../../gateway/store/store.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { registerSynth } from '../web/synthetic.js';
import { drained, memoryLog, startSinks } from './fixtures.js';

/**
 * An InfluxDB 1.x URL with credentials inside (`http://admin:pw@host:8086`): fetch refuses such a
 * URL and its error repeats it, so the password used to reach `/api/health` `lastError`,
 * `fcgw status` and the log. Now the credentials become basic auth, and nothing shows them.
 */
const SECRET = 'Pw-9f3e-s3cret';
const cleanup = cleanupsAfterEach();

/** A /write endpoint that wants basic auth admin:SECRET, as influxd with auth-enabled does. */
async function influxLike(): Promise<{ url: string; auth: string[]; lines: string[]; server: Server }> {
  const auth: string[] = [];
  const lines: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      auth.push(req.headers.authorization ?? '');
      if (req.headers.authorization !== `Basic ${Buffer.from(`admin:${SECRET}`).toString('base64')}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"authorization failed"}');
        return;
      }
      lines.push(...body.split('\n'));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  cleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://admin:${SECRET}@127.0.0.1:${port}`, auth, lines, server };
}

describe('influxdb1 sink: credentials inside the URL', () => {
  it('are sent as basic auth, and the points arrive', async () => {
    const t = tempDir('fcgw-cred-');
    cleanup(t.cleanup);
    const ix = await influxLike();
    const store = Store.open({ path: join(t.dir, 's.db'), site: 'cred' });
    cleanup(() => store.close());
    store.write([{ site: 'cred', device: 'm-1', class: 'grid_meter', metric: 'power', ts: Date.now() - 1000, value: 1.5, quality: 'good' }]);
    const { log, lines } = memoryLog();
    const config = parseConfig(JSON.stringify({ version: 1, site: { id: 'cred' }, sinks: [{ id: 'ix', type: 'influxdb1', url: ix.url, database: 'd', flush_interval: '50ms', backoff_max: '200ms', start_from: 'earliest' }] }), 'test', {});
    const { sinks } = startSinks(config, store, log);
    await sinks.start();
    cleanup(() => sinks.stop());
    await waitFor(() => drained(store, 'sink:ix'), 5_000);
    expect(ix.lines).toEqual([expect.stringMatching(/^grid_meter,device=m-1,site=cred power=1\.5 \d+$/)]);
    expect(JSON.stringify(lines())).not.toContain(SECRET);
  });

  it('a failing sink shows no password in /api/health, fcgw status or the log', async () => {
    const t = tempDir('fcgw-cred-');
    cleanup(t.cleanup);
    const [apiPort, deadPort] = [await freePort(), await freePort()];
    const token = 'cred-test-token-0123456789abcdef';
    const config = parseConfig(
      `version: 1
site: { id: cred }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${apiPort}, tokens: [${token}] }
sinks:
  - { id: ix, type: influxdb1, url: "http://admin:${SECRET}@127.0.0.1:${deadPort}", database: d, flush_interval: 50ms, backoff_max: 200ms, timeout: 1s }
  - { id: q, type: influxdb1, url: "http://127.0.0.1:${deadPort}/?u=admin&p=${SECRET}", database: d, flush_interval: 50ms, backoff_max: 200ms, timeout: 1s }
`,
      'test',
      {},
    );
    let logged = '';
    const destination = new Writable({
      write(c: Buffer, _e, cb) {
        logged += c.toString();
        cb();
      },
    });
    const gw = Gateway.create({ config, log: createLogger({ level: 'info', destination }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
    await gw.start();
    cleanup(() => gw.stop());
    registerSynth(gw, [{ id: 'm-1', class: 'grid_meter', tags: {} }]);
    await gw.ingestor.submit({ readings: [{ device: 'm-1', metric: 'power', value: 2, ts: gw.clock.now() - 1000 }] });
    await waitFor(() => (gw.health().sinks as { lastError: string | null }[]).every((s) => s.lastError !== null), 10_000);

    const res = await fetch(`${gw.apiUrl}/api/health`, { headers: { authorization: `Bearer ${token}` } });
    const health = await res.text();
    expect(health).toMatch(/SINK_NETWORK/);
    expect(health).not.toContain(SECRET);
    const status = await runStatus({ url: gw.apiUrl as string, token });
    expect(status.text).toMatch(/ix \(influxdb1\): backoff/);
    expect(status.text).not.toContain(SECRET);
    const json = await runStatus({ url: gw.apiUrl as string, token, json: true });
    expect(json.text).not.toContain(SECRET);
    expect(logged).toMatch(/sink cannot deliver/);
    expect(logged).not.toContain(SECRET);
  });
});
