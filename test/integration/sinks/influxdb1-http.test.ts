import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, type SinkConfig } from '../../../gateway/config/schema.js';
import { systemClock } from '../../../gateway/model/clock.js';
import { influxdb1Writer } from '../../../gateway/sinks/influxdb1.js';

/**
 * The influxdb1 writer's own HTTP (node http/https instead of fetch, so it can take a CA),
 * against a real server answering as InfluxDB 1.x does: where no influxd is installed these
 * keep its statuses, bodies, Retry-After, basic auth, timeout and abort covered.
 */
describe('influxdb1 writer over node http', () => {
  let server: Server;
  let url: string;
  let answer: (req: IncomingMessage, body: string, res: ServerResponse) => void = (_q, _b, res) => res.writeHead(204).end();
  const seen: { url: string; auth: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ url: req.url ?? '', auth: req.headers.authorization, body });
        answer(req, body, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  const writer = (extra: Record<string, unknown> = {}) =>
    influxdb1Writer(configSchema.parse({ version: 1, site: { id: 's' }, sinks: [{ type: 'influxdb1', url, database: 'community', retention_policy: 'rp1', ...extra }] }).sinks[0] as never as Extract<SinkConfig, { type: 'influxdb1' }>, {
      deviceTags: () => ({}),
      clock: systemClock,
    });
  const lines = ['m,site=s v=1 1700000000000', 'm,site=s v=2 1700000001000'];

  it('posts the lines to /write with db, rp, ms precision and basic auth', async () => {
    answer = (_q, _b, res) => res.writeHead(204).end();
    await expect(writer({ username: 'writer', password: 'pw' }).send(lines, new AbortController().signal)).resolves.toEqual([]);
    const last = seen.at(-1);
    expect(last?.url).toBe('/write?db=community&rp=rp1&precision=ms');
    expect(last?.auth).toBe(`Basic ${Buffer.from('writer:pw').toString('base64')}`);
    expect(last?.body).toBe(lines.join('\n'));
  });

  it.each([
    [400, '{"error":"partial write: field type conflict"}', undefined, 'SINK_REJECTED', undefined],
    [401, '{"error":"authorization failed"}', undefined, 'SINK_CONFIG', undefined],
    [429, '', '7', 'SINK_THROTTLED', 7000],
    [503, 'overloaded', '2', 'SINK_SERVER', 2000],
  ])('HTTP %i is classified with its body and Retry-After', async (status, body, retryAfter, code, retryAfterMs) => {
    answer = (_q, _b, res) => res.writeHead(status, retryAfter ? { 'retry-after': retryAfter } : {}).end(body);
    const err = await writer().send(lines, new AbortController().signal).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, status, message: `HTTP ${status}${body ? `: ${body}` : ''}` });
    expect((err as { retryAfterMs?: number }).retryAfterMs).toBe(retryAfterMs);
  });

  it('a server that does not answer is a timeout; an abort is an abort', async () => {
    answer = () => undefined;
    await expect(writer({ timeout: '200ms' }).send(lines, new AbortController().signal)).rejects.toMatchObject({ code: 'SINK_TIMEOUT' });
    const ac = new AbortController();
    const sending = writer({ timeout: '10s' }).send(lines, ac.signal);
    setTimeout(() => ac.abort(), 50);
    await expect(sending).rejects.toMatchObject({ code: 'SINK_ABORTED' });
  });

  it('a closed port is a network error', async () => {
    const w = influxdb1Writer(configSchema.parse({ version: 1, site: { id: 's' }, sinks: [{ type: 'influxdb1', url: 'http://127.0.0.1:1', database: 'c' }] }).sinks[0] as never, { deviceTags: () => ({}), clock: systemClock });
    await expect(w.send(lines, new AbortController().signal)).rejects.toMatchObject({ code: 'SINK_NETWORK', message: expect.stringContaining('ECONNREFUSED') });
  });
});
