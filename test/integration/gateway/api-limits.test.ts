import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { withoutToken } from '../../../gateway/api/auth.js';
import { apiRoutes } from '../../../gateway/api/server.js';
import { waitFor } from '../../helpers/peers.js';
import { ADMIN_TOKEN, rawRequest, READ_TOKEN, startApiGateway, T0, type TestGateway } from './api-helpers.js';

/** HTTP limits on a hostile LAN: slow sockets, stream floods, readers that never read, odd times, Host names. */

let t: TestGateway | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const auth = { authorization: `Bearer ${READ_TOKEN}` };
const metricsText = async (g: TestGateway, headers: Record<string, string> = auth) => (await rawRequest(g.port, '/metrics', { headers })).body;

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.on('error', reject);
  });
}

describe('HTTP timeouts', () => {
  it('uses bounded timeouts by default (headers 10 s, request 30 s, idle 60 s, keep-alive 5 s)', async () => {
    t = await startApiGateway('');
    const server = (t.gw.api as NonNullable<TestGateway['gw']['api']>).server;
    expect(server.headersTimeout).toBe(10_000);
    expect(server.requestTimeout).toBe(30_000);
    expect(server.timeout).toBe(60_000);
    expect(server.keepAliveTimeout).toBe(5_000);
  });

  it('closes slow-header sockets within the header timeout while serving others', async () => {
    t = await startApiGateway(`tokens: [${READ_TOKEN}], limits: { header_timeout: 1s, request_timeout: 2s }`);
    const port = t.port;
    const sockets = await Promise.all(Array.from({ length: 50 }, () => openSocket(port)));
    const started = performance.now();
    const closedAt: number[] = [];
    const received: string[] = [];
    for (const s of sockets) {
      s.on('data', (d: Buffer) => received.push(d.toString()));
      s.on('error', () => undefined);
      s.on('close', () => closedAt.push(performance.now() - started));
      s.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    }
    // A header line every 200 ms: never complete, never idle.
    let n = 0;
    const drip = setInterval(() => {
      for (const s of sockets) if (!s.destroyed) s.write(`X-Slow-${n}: 1\r\n`);
      n++;
    }, 200);
    try {
      // An authorised client is served meanwhile.
      const ok = await rawRequest(port, '/api/health', { headers: auth });
      expect(ok.status).toBe(200);
      await waitFor(() => closedAt.length === sockets.length, 5_000);
    } finally {
      clearInterval(drip);
      for (const s of sockets) s.destroy();
    }
    // header_timeout 1 s, checked every 250 ms: all gone well before 3 s.
    expect(Math.max(...closedAt)).toBeLessThan(3_000);
    expect(Math.min(...closedAt)).toBeGreaterThanOrEqual(900);
    expect(received.join('')).toContain('408');
  }, 20_000);
});

describe('live streams outlive the request and idle timeouts', () => {
  it('keeps a quiet stream open past request_timeout and idle_timeout with heartbeats', async () => {
    t = await startApiGateway(`tokens: [${READ_TOKEN}], limits: { header_timeout: 300ms, request_timeout: 500ms, idle_timeout: 1500ms }`);
    const s = await openSocket(t.port);
    let text = '';
    let closed = false;
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('close', () => (closed = true));
    s.write(`GET /api/live?types=alert HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${READ_TOKEN}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 3500));
    t.gw.live.publish({ kind: 'alert', data: { kpi: 'still-here' } });
    await waitFor(() => text.includes('still-here'), 2_000);
    expect(closed).toBe(false);
    // Heartbeats every idle_timeout / 3 kept the socket from counting as idle.
    expect(text.split(': keep-alive').length - 1).toBeGreaterThanOrEqual(5);
    s.destroy();
  }, 15_000);
});

describe('live stream limits', () => {
  it('caps streams per client address (429) and in all (503), with Retry-After, and counts refusals', async () => {
    t = await startApiGateway(`tokens: [${READ_TOKEN}], limits: { live_streams: 4, live_streams_per_client: 2 }`);
    const port = t.port;
    const open = (localAddress: string) => rawRequest(port, '/api/live', { headers: auth, localAddress, keepStream: true });
    const a1 = await open('127.0.0.1');
    const a2 = await open('127.0.0.1');
    expect([a1.status, a2.status]).toEqual([200, 200]);
    const a3 = await open('127.0.0.1');
    expect(a3.status).toBe(429);
    expect(a3.headers['retry-after']).toBe('10');
    expect(JSON.parse(a3.body)).toMatchObject({ error: { code: 'LIVE_PER_CLIENT' } });

    const b1 = await open('127.0.0.2');
    const b2 = await open('127.0.0.2');
    expect([b1.status, b2.status]).toEqual([200, 200]);
    const c1 = await open('127.0.0.3');
    expect(c1.status).toBe(503);
    expect(c1.headers['retry-after']).toBe('10');
    expect(JSON.parse(c1.body)).toMatchObject({ error: { code: 'LIVE_FULL' } });

    // A closed stream frees its place.
    a1.close();
    await waitFor(async () => (await metricsText(t as TestGateway)).includes('fcgw_live_clients 3'), 5_000);
    const c2 = await open('127.0.0.3');
    expect(c2.status).toBe(200);

    const m = await metricsText(t);
    expect(m).toContain('fcgw_live_refused_total{reason="per_client"} 1');
    expect(m).toContain('fcgw_live_refused_total{reason="total"} 1');
    for (const s of [a2, b1, b2, c2]) s.close();
  });

  it('drops a reader that does not read once its buffer passes the bound, counts it, and keeps serving the others', async () => {
    t = await startApiGateway(`tokens: [${READ_TOKEN}], limits: { live_buffer: 64kB }`);
    const g = t;
    // The stuck reader: sends its request, reads the headers, then never reads again.
    const stuck = await openSocket(g.port);
    stuck.on('error', () => undefined);
    stuck.write(`GET /api/live?types=alert HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${READ_TOKEN}\r\n\r\n`);
    await new Promise<void>((resolve) => stuck.once('data', () => resolve()));
    stuck.pause();
    // A reader that reads: it must get every message.
    const good = await openSocket(g.port);
    let goodText = '';
    good.on('data', (d: Buffer) => (goodText += d.toString()));
    good.write(`GET /api/live?types=alert HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${READ_TOKEN}\r\n\r\n`);
    await waitFor(() => goodText.includes(': connected'));

    // Bursts below the bound (a healthy reader drains each), until the stuck reader's kernel
    // buffers (a few MB on loopback) are full and its own buffer passes the bound.
    const blob = 'x'.repeat(4 * 1024);
    const dropped = async () => (await g.gw.metrics.registry.getSingleMetricAsString('fcgw_live_dropped_total')).includes('{reason="slow_reader"} 1');
    let sent = 0;
    while (sent < 100_000 && !(await dropped())) {
      for (let i = 0; i < 12; i++) g.gw.live.publish({ kind: 'alert', data: { n: sent++, blob } });
      await waitFor(() => goodText.includes(`"n":${sent - 1},`), 10_000);
    }
    const m = await metricsText(g);
    expect(m).toContain('fcgw_live_dropped_total{reason="slow_reader"} 1');
    expect(m).toContain('fcgw_live_clients 1');
    expect(sent).toBeLessThan(100_000);
    console.log(`slow reader dropped after ${sent} messages (${((sent * 4.1) / 1024).toFixed(1)} MB) were published`);
    for (let n = 0; n < sent; n++) expect(goodText).toContain(`"n":${n},`);
    expect(g.logText()).toContain('live stream dropped: the reader fell behind');
    stuck.destroy();
    good.destroy();
  }, 60_000);
});

describe('Host header when no token protects the API', () => {
  it('answers only to loopback names, its own address and allowed_hosts', async () => {
    t = await startApiGateway('allowed_hosts: [gw.community.lan, "[fd00::5]"]');
    const port = t.port;
    const as = async (host: string | undefined, path = '/api/devices') => {
      const r = await rawRequest(port, path, host === undefined ? {} : { headers: { host } });
      return r.status;
    };
    for (const host of ['127.0.0.1', `127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', 'localhost.', `[::1]:${port}`, '127.8.9.10', 'gw.community.lan', `GW.Community.LAN:${port}`, '[fd00::5]:80'])
      expect(await as(host), host).toBe(200);
    // A rebinding page names its own domain; odd spellings are refused, not guessed at.
    for (const host of ['evil.example', `evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io', 'gw.community.lan.evil.example', '2130706433', '[::ffff:7f00:1]', 'localhost:80:80', 'local host', 'localhost:x'])
      for (const path of ['/api/devices', '/metrics', '/api/live', '/', '/app.js', '/nothing'])
        expect(await as(host, path), `${host} ${path}`).toBe(403);
    // Without a Host (HTTP/1.0) or with an empty one: refused as well.
    for (const head of ['GET /api/devices HTTP/1.0\r\n\r\n', 'GET /api/devices HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n']) {
      const s = await openSocket(port);
      let text = '';
      s.on('data', (d: Buffer) => (text += d.toString()));
      s.write(head);
      await new Promise((resolve) => s.on('close', resolve));
      expect(text, head).toMatch(/^HTTP\/1\.[01] 403/);
    }
    const m = await metricsText(t, { host: 'localhost' });
    expect(m).toMatch(/fcgw_api_refused_total\{reason="host"\} [1-9]/);
  });

  it('does not check Host names when tokens protect the API and no names are configured', async () => {
    t = await startApiGateway(`tokens: [${READ_TOKEN}]`);
    expect((await rawRequest(t.port, '/api/devices', { headers: { ...auth, host: 'gw.example' } })).status).toBe(200);
    expect((await rawRequest(t.port, '/api/devices', { headers: { host: 'gw.example' } })).status).toBe(401);
  });
});

describe('access_token and time parameters', () => {
  it('accepts access_token on every authenticated route and never logs it', async () => {
    t = await startApiGateway(`tokens: [${READ_TOKEN}], admin_tokens: [${ADMIN_TOKEN}]`);
    const api = t.gw.api as NonNullable<TestGateway['gw']['api']>;
    const needs: Record<string, string> = { '/api/series': '&device=meter-1&metric=power' };
    const routes = apiRoutes(api).filter((r) => r.access !== 'public' && r.method !== 'HEAD');
    expect(routes.length).toBeGreaterThan(8);
    for (const r of routes) {
      const token = r.access === 'admin' ? ADMIN_TOKEN : READ_TOKEN;
      const res = await rawRequest(t.port, `${r.url.replace(':id', 'meter-1')}?access_token=${token}${needs[r.url] ?? ''}`, { method: r.method });
      // A command without a body is past the token check and refused for its body.
      const want = r.method !== 'POST' ? 200 : r.url === '/api/devices/:id/commands' ? 400 : 202;
      expect(res.status, `${r.method} ${r.url}: ${res.body}`).toBe(want);
    }
    // Refused, failed and unknown requests carrying tokens: none of them reaches the log.
    const wrong = 'wrong-token-never-logged-0123';
    for (const path of [
      `/api/devices?access_token=${wrong}`,
      `/api/series?access_token=${READ_TOKEN}&device=meter-1&metric=power&to=99999999999999999`,
      `/api/nothing?access_token=${READ_TOKEN}`,
      `/api/latest?access_token=${READ_TOKEN}&colour=red`,
    ])
      expect((await rawRequest(t.port, path)).status).toBeGreaterThanOrEqual(400);
    expect((await rawRequest(t.port, `/api/reload?access_token=${READ_TOKEN}`, { method: 'POST' })).status).toBe(403);
    expect((await rawRequest(t.port, '/api/devices', { headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401);
    // Taken out of the raw URL as well, however its name is spelled, for whatever logs it later.
    expect(withoutToken(`/api/live?types=alert&access_token=${READ_TOKEN}&access%5Ftoken=x&device=m-1`)).toBe('/api/live?types=alert&device=m-1');
    expect(withoutToken(`/api/live?access_token=${READ_TOKEN}`)).toBe('/api/live');
    const log = t.logText();
    expect(log).toContain('API request refused');
    for (const secret of [READ_TOKEN, ADMIN_TOKEN, wrong]) expect(log).not.toContain(secret);
  });

  it.each([
    ['/api/series?device=meter-1&metric=power&to=9999999999999999'],
    ['/api/series?device=meter-1&metric=power&from=-1'],
    ['/api/series?device=meter-1&metric=power&from=%2B275760-09-13T00:00:00.000Z'],
    ['/api/series?device=meter-1&metric=power&to=253402300800000'],
    ['/api/series?device=meter-1&metric=power&to=1e400'],
    ['/api/series?device=meter-1&metric=power&from=99999999999999999999999999'],
    ['/api/events?from=9999999999999999'],
    ['/api/events?to=-8640000000000001'],
    ['/api/kpis?at=9999999999999999'],
    ['/api/kpis?at=-100000000000000'],
  ])('GET %s → 400, never 500', async (path) => {
    t = await startApiGateway('');
    const r = await rawRequest(t.port, path);
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: 'BAD_PARAMETER' } });
  });

  it('answers the edges of the range and never a 500 for any odd time', async () => {
    t = await startApiGateway('');
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    expect((await rawRequest(t.port, `/api/series?device=meter-1&metric=power&from=0&to=${max}`)).status).toBe(200);
    expect((await rawRequest(t.port, `/api/events?from=0&to=${max}`)).status).toBe(200);
    expect((await rawRequest(t.port, `/api/kpis?at=${max}`)).status).toBe(200);
    expect((await rawRequest(t.port, '/api/kpis?at=0')).status).toBe(200);
    const odd = ['', '0', '-0', 'NaN', 'Infinity', '1e3', '0x10', '9'.repeat(400), `${T0}.5`, '2026-13-01', '2026-02-30T00:00:00Z', '+010000-01-01T00:00:00Z', '%00', 'now'];
    const routes: [string, string[]][] = [
      ['/api/series?device=meter-1&metric=power', ['from', 'to']],
      ['/api/events?type=vehicle_entry', ['from', 'to']],
      ['/api/kpis?window=day', ['at']],
    ];
    for (const [base, params] of routes)
      for (const p of params)
        for (const v of odd) {
          const r = await rawRequest(t.port, `${base}&${p}=${v}`);
          expect(r.status, `${base}&${p}=${v}: ${r.body.slice(0, 100)}`).toBeLessThan(500);
        }
  });
});
