import type { FastifyInstance, FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The dashboard (gateway/web) at `/` and uPlot (from node_modules) at `/vendor/`, served by the
 * gateway itself: the page works with no internet and no second server. Only files that exist
 * under those folders with a known type are served; everything else is the API's JSON 404.
 */

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Names a request may ask for: no slashes, no dot-files, no `..`, no type declarations. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9]+)*$/;

// The page loads only from this gateway; inline styles are needed by uPlot and the bars' widths.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const VENDOR_FILES = ['uPlot.iife.min.js', 'uPlot.min.css'] as const;

export interface WebPluginOptions {
  /** Folder with index.html, app.js … (default: gateway/web beside this file). */
  webDir?: string;
  /** Folder holding uPlot's dist files (default: resolved from node_modules). */
  vendorDir?: string;
}

interface Cached {
  mtimeMs: number;
  body: Buffer;
  etag: string;
}

export function defaultWebDir(): string {
  return fileURLToPath(new URL('../web/', import.meta.url));
}

export function defaultVendorDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
}

/** Register the dashboard routes on the API (a plugin for buildApi). */
export function webPlugin(app: FastifyInstance, opts: WebPluginOptions = {}): void {
  const webDir = opts.webDir ?? defaultWebDir();
  const vendorDir = opts.vendorDir ?? defaultVendorDir();
  const cache = new Map<string, Cached>();

  // Files change only on upgrade, but a restart-free edit during development is still picked up.
  async function load(file: string): Promise<Cached | undefined> {
    let st;
    try {
      st = await stat(file);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === st.mtimeMs) return hit;
    const body = await readFile(file);
    const entry = { mtimeMs: st.mtimeMs, body, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"` };
    cache.set(file, entry);
    return entry;
  }

  async function send(file: string, ifNoneMatch: string | undefined, reply: FastifyReply): Promise<FastifyReply> {
    const type = TYPES[extname(file)];
    const entry = type ? await load(file) : undefined;
    if (!type || !entry) {
      reply.callNotFound();
      return reply;
    }
    reply
      .header('content-type', type)
      .header('etag', entry.etag)
      // Revalidate every time: a gateway upgrade must never leave an old page half-cached.
      .header('cache-control', 'no-cache')
      .header('x-content-type-options', 'nosniff');
    if (type.startsWith('text/html')) reply.header('content-security-policy', CSP).header('referrer-policy', 'no-referrer');
    if (ifNoneMatch === entry.etag) return reply.code(304).send();
    return reply.send(entry.body);
  }

  const safe = (name: string) => SAFE_NAME.test(name) && !name.endsWith('.d.ts');

  app.get('/', (req, reply) => send(join(webDir, 'index.html'), req.headers['if-none-match'], reply));

  app.get<{ Params: { file: string } }>('/:file', (req, reply) => {
    const name = req.params.file;
    if (!safe(name)) {
      reply.callNotFound();
      return reply;
    }
    return send(join(webDir, name), req.headers['if-none-match'], reply);
  });

  app.get<{ Params: { file: string } }>('/views/:file', (req, reply) => {
    const name = req.params.file;
    if (!safe(name)) {
      reply.callNotFound();
      return reply;
    }
    return send(join(webDir, 'views', name), req.headers['if-none-match'], reply);
  });

  app.get<{ Params: { file: string } }>('/vendor/:file', (req, reply) => {
    const name = req.params.file;
    if (!(VENDOR_FILES as readonly string[]).includes(name)) {
      reply.callNotFound();
      return reply;
    }
    return send(join(vendorDir, name), req.headers['if-none-match'], reply);
  });
}

// The page, its scripts and uPlot hold no data: they load without a token (the data they fetch needs one).
webPlugin.access = 'public' as const;
