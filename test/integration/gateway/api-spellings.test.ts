import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes, type ApiRoute } from '../../../gateway/api/server.js';
import { ADMIN_TOKEN, rawRequest, READ_TOKEN, startApiGateway, type RawResponse, type TestGateway } from './api-helpers.js';

/**
 * An attacker on the LAN tries every route the API registered under every spelling a router,
 * a proxy or a decoder might read differently from the auth check: no spelling may reach data
 * without a valid token, and no read token may reach an admin route.
 */

/** Parameters a route needs to answer 200 (routes not listed need none). */
const NEEDS: Readonly<Record<string, string>> = { '/api/series': '?device=meter-1&metric=power' };

/** Strings that only appear in data (device ids, the site, metric names, a pseudonymised plate). */
const DATA_MARKERS = ['meter-1', 'gate-1', 'apitest', 'fcgw_', 'vehicle_entry', '"kpi"', '"alerts"'];

/** The dashboard routes: the only ones that may answer without a token (their files hold no data). */
const PUBLIC_ROUTES = ['/', '/:file', '/views/:file', '/vendor/:file'];

const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(2, '0');

/** Every way of writing `path` we try: encodings, case, slashes, dot segments, matrix parameters. */
function spellings(path: string, port: number): string[] {
  const out = new Set<string>([path]);
  const slashes = [...path].flatMap((c, i) => (c === '/' ? [i] : []));
  for (let i = 0; i < path.length; i++) {
    const c = path[i] as string;
    const at = (s: string) => path.slice(0, i) + s + path.slice(i + 1);
    out.add(at(`%${hex(c).toUpperCase()}`));
    out.add(at(`%${hex(c)}`));
    out.add(at(`%25${hex(c)}`)); // double encoding
    if (c.toUpperCase() !== c) out.add(at(c.toUpperCase()));
  }
  out.add(path.toUpperCase());
  out.add(path.replace(/[a-z]/g, (c) => `%${hex(c)}`)); // every letter encoded at once
  for (const i of slashes) {
    const at = (s: string) => path.slice(0, i) + s + path.slice(i + 1);
    out.add(at('//'));
    out.add(at('/./'));
    out.add(at('/x/../'));
    out.add(at('/%2e/'));
    out.add(at('/x/%2e%2e/'));
    out.add(at('/x/%2E%2E/'));
    out.add(at('\\'));
    out.add(at('%5c'));
    if (i > 0) {
      out.add(at('%2f'));
      out.add(at('%2F'));
      out.add(at(';x=1/'));
      out.add(at(';/'));
    }
  }
  for (const suffix of ['/', '//', '/.', '/..', '/./', ';x=1', ';', '%00', '%20', '%09', '.json', '%3f', '?', '#x', '/x/..', '%2f', '%2e'])
    out.add(path + suffix);
  out.add(`/.${path}`);
  out.add(`/x/..${path}`);
  out.add(`//${path}`);
  out.add(`http://127.0.0.1:${port}${path}`);
  out.add(`http://evil.example${path}`);
  return [...out];
}

interface Credential {
  name: string;
  headers: Record<string, string>;
  query?: string;
  scope: 'none' | 'read' | 'admin';
}

const CREDENTIALS: Credential[] = [
  { name: 'no token', headers: {}, scope: 'none' },
  { name: 'wrong token', headers: { authorization: 'Bearer wrong-token-0123456789abcd' }, scope: 'none' },
  { name: 'wrong token, valid one in the query', headers: { authorization: 'Bearer wrong-token-0123456789abcd' }, query: `access_token=${READ_TOKEN}`, scope: 'none' },
  { name: 'token with no scheme', headers: { authorization: READ_TOKEN }, scope: 'none' },
  { name: 'token as Basic', headers: { authorization: `Basic ${READ_TOKEN}` }, scope: 'none' },
  { name: 'read token prefix', headers: { authorization: `Bearer ${READ_TOKEN.slice(0, -1)}` }, scope: 'none' },
  { name: 'empty access_token', headers: {}, query: 'access_token=', scope: 'none' },
  { name: 'read token', headers: { authorization: `Bearer ${READ_TOKEN}` }, scope: 'read' },
  { name: 'read token, lower-case scheme', headers: { authorization: `bearer ${READ_TOKEN}` }, scope: 'read' },
  { name: 'read access_token', headers: {}, query: `access_token=${READ_TOKEN}`, scope: 'read' },
  { name: 'admin token', headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, scope: 'admin' },
  { name: 'admin access_token', headers: {}, query: `access_token=${ADMIN_TOKEN}`, scope: 'admin' },
];

function withQuery(path: string, route: string, extra?: string): string {
  const need = NEEDS[route] ?? '';
  const q = [need.replace(/^\?/, ''), extra].filter(Boolean).join('&');
  if (!q) return path;
  return path.includes('?') ? `${path}&${q}` : `${path}?${q}`;
}

function leaksData(r: RawResponse): boolean {
  return DATA_MARKERS.some((m) => r.body.includes(m));
}

describe('API auth under every spelling of every route', () => {
  let t: TestGateway;
  let routes: readonly ApiRoute[];

  beforeAll(async () => {
    t = await startApiGateway(
      `tokens: [${READ_TOKEN}], admin_tokens: [${ADMIN_TOKEN}], limits: { live_streams: 10000, live_streams_per_client: 10000 }`,
    );
    routes = apiRoutes(t.gw.api as NonNullable<TestGateway['gw']['api']>);
  });
  afterAll(async () => t.stop());

  it('knows every route and its access: only the dashboard is public', () => {
    const byAccess = (a: string) => routes.filter((r) => r.access === a && r.method !== 'HEAD').map((r) => `${r.method} ${r.url}`).sort();
    expect(byAccess('public')).toEqual(PUBLIC_ROUTES.map((u) => `GET ${u}`).sort());
    expect(byAccess('read')).toEqual(
      ['/api/alerts', '/api/devices', '/api/devices/:id/commands', '/api/events', '/api/health', '/api/kpis', '/api/latest', '/api/live', '/api/series', '/metrics'].map((u) => `GET ${u}`),
    );
    expect(byAccess('admin')).toEqual(['GET /api/commands', 'POST /api/devices/:id/commands', 'POST /api/reload']);
  });

  it('answers every route at its plain spelling with the right token', async () => {
    for (const r of routes.filter((x) => x.access !== 'public' && x.method !== 'HEAD')) {
      const good = r.access === 'admin' ? ADMIN_TOKEN : READ_TOKEN;
      const ok = await rawRequest(t.port, withQuery(r.url, r.url), { method: r.method, headers: { authorization: `Bearer ${good}` } });
      // A command without a body passes the token check and is refused for its body (400).
      const want = r.url === '/api/devices/:id/commands' ? 400 : r.method === 'POST' ? 202 : 200;
      expect(ok.status, `${r.method} ${r.url}`).toBe(want);
      if (r.access === 'admin') {
        const refused = await rawRequest(t.port, r.url, { method: r.method, headers: { authorization: `Bearer ${READ_TOKEN}` } });
        expect(refused.status).toBe(403);
      }
    }
    expect(t.reloads).toBe(1);
    // Whatever body a client sends with it (curl -d '', an empty JSON body) is ignored.
    for (const type of ['application/json', 'application/x-www-form-urlencoded', 'text/plain'])
      expect((await rawRequest(t.port, '/api/reload', { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type } })).status, type).toBe(202);
    expect(t.reloads).toBe(4);
  });

  it('never gives data without a valid token, nor an admin route to a read token', async () => {
    const reloadsBefore = t.reloads;
    let adminAccepted = 0;
    let tried = 0;
    const failures: string[] = [];
    const dropped = new Set<string>();
    for (const r of routes.filter((x) => x.access !== 'public')) {
      for (const spelled of spellings(r.url, t.port)) {
        for (const cred of CREDENTIALS) {
          // HEAD answers carry no body: try them without credentials only (their status is the point).
          if (r.method === 'HEAD' && cred.scope !== 'none') continue;
          const path = withQuery(spelled, r.url, cred.query);
          // Node's HTTP parser closes the socket on some spellings before any route runs: a refusal.
          const res = await rawRequest(t.port, path, { method: r.method, headers: cred.headers }).catch((err: Error) => {
            dropped.add(`${spelled}: ${err.message}`);
            return { status: 0, headers: {} as RawResponse['headers'], body: '' };
          });
          tried++;
          const what = `${r.method} ${path} (${cred.name}) → ${res.status}`;
          if (res.status >= 500) failures.push(`${what}: server error`);
          const success = res.status >= 200 && res.status < 400;
          const allowed = cred.scope === 'admin' || (cred.scope === 'read' && r.access === 'read');
          if (success && !allowed) {
            // Only a dashboard file may answer, and it must hold no data.
            const type = String(res.headers['content-type']);
            if (!/^(text\/html|text\/javascript|text\/css|image\/svg)/.test(type) || leaksData(res)) failures.push(`${what}: ${type} ${res.body.slice(0, 80)}`);
          }
          if (r.url === '/api/reload' && success && cred.scope === 'admin') adminAccepted++;
        }
      }
    }
    expect(failures).toEqual([]);
    console.log(`${tried} requests; closed by the HTTP parser: ${[...dropped].slice(0, 10).join(' | ')}`);
    // Only admin tokens triggered the reload, once per request they got accepted.
    expect(t.reloads - reloadsBefore).toBe(adminAccepted);
    expect(tried).toBeGreaterThan(5000);
  }, 120_000);

  it('refusals are counted in /metrics', async () => {
    const m = await rawRequest(t.port, '/metrics', { headers: { authorization: `Bearer ${READ_TOKEN}` } });
    expect(m.body).toMatch(/fcgw_api_refused_total\{reason="unauthorised"\} [1-9]\d*/);
    expect(m.body).toMatch(/fcgw_api_refused_total\{reason="forbidden"\} [1-9]\d*/);
  });
});
