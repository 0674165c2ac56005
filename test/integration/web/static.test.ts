import Fastify, { type FastifyInstance } from 'fastify';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultVendorDir, defaultWebDir, webPlugin } from '../../../gateway/api/static.js';

const WEB = defaultWebDir();

function webFiles(): string[] {
  const top = readdirSync(WEB).filter((f) => /\.(js|html|css|svg)$/.test(f));
  const views = readdirSync(join(WEB, 'views')).map((f) => `views/${f}`);
  return [...top, ...views];
}

describe('webPlugin serves the dashboard from the gateway itself', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    app = Fastify();
    app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url}` } }));
    app.get('/api/health', async () => ({ status: 'ok' }));
    webPlugin(app);
    await app.ready();
  });
  afterAll(() => app.close());

  it('serves the page at / with a policy that allows only its own origin', async () => {
    const res = await app.inject('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    expect(res.headers['content-security-policy']).toContain("connect-src 'self'");
    expect(res.body).toContain('<script type="module" src="/app.js"></script>');
    expect(res.body).toContain('/vendor/uPlot.iife.min.js');
  });

  it('serves every web file with its type, and uPlot from node_modules', async () => {
    for (const f of webFiles()) {
      const res = await app.inject(`/${f}`);
      expect(res.statusCode, f).toBe(200);
      expect(res.body, f).toBe(readFileSync(join(WEB, f), 'utf8'));
    }
    const js = await app.inject('/app.js');
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    const up = await app.inject('/vendor/uPlot.iife.min.js');
    expect(up.statusCode).toBe(200);
    expect(up.body).toBe(readFileSync(join(defaultVendorDir(), 'uPlot.iife.min.js'), 'utf8'));
    const css = await app.inject('/vendor/uPlot.min.css');
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
  });

  it('answers a repeated request with 304 when the file is unchanged', async () => {
    const first = await app.inject('/style.css');
    const etag = first.headers['etag'];
    expect(typeof etag).toBe('string');
    const again = await app.inject({ url: '/style.css', headers: { 'if-none-match': String(etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it.each(['/format.d.ts', '/nope.js', '/vendor/uPlot.cjs.js', '/vendor/..%2Fpackage.json', '/..%2F..%2Fpackage.json', '/.hidden.js', '/views/..%2Fapp.js', '/api'])(
    '%s is the API 404, never a file outside the web folder',
    async (url) => {
      const res = await app.inject(url);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
    },
  );

  it('preloads every module of the page, so the first render needs one round of fetches', () => {
    const html = readFileSync(join(WEB, 'index.html'), 'utf8');
    const preloaded = [...html.matchAll(/rel="modulepreload" href="\/([^"]+)"/g)].map((m) => m[1]).sort();
    expect(preloaded).toEqual(webFiles().filter((f) => f.endsWith('.js')).sort());
  });

  it('leaves the API routes alone', async () => {
    expect((await app.inject('/api/health')).json()).toEqual({ status: 'ok' });
  });

  it('refers to nothing outside the gateway: every import and link resolves to a served file', async () => {
    const refs = new Set<string>();
    for (const f of webFiles()) {
      const text = readFileSync(join(WEB, f), 'utf8');
      // Only the SVG namespace may look like a URL; it is an identifier, never fetched.
      const urls = [...text.matchAll(/https?:\/\/[^\s'"`)]+/g)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg');
      expect(urls, f).toEqual([]);
      const base = f.includes('/') ? f.slice(0, f.lastIndexOf('/') + 1) : '';
      for (const m of text.matchAll(/(?:import[^'"]*from\s*|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
        refs.add(new URL(m[1] ?? '', `http://x/${base}`).pathname);
      }
      for (const m of text.matchAll(/(?:src|href)="(\/[^"#]*)"/g)) refs.add(m[1] ?? '');
    }
    expect(refs.size).toBeGreaterThan(15);
    for (const r of refs) expect((await app.inject(r)).statusCode, r).toBe(200);
  });
});
