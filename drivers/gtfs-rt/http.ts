import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { redactSecrets } from '../../gateway/model/redact.js';
import type { GtfsReader } from './static-gtfs.js';

/** Why a fetch failed, with a code a retry may or may not help. */
export class FetchError extends Error {
  constructor(
    readonly code: 'FEED_HTTP_STATUS' | 'FEED_TIMEOUT' | 'FEED_UNREACHABLE' | 'FEED_TOO_LARGE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * GET a body, refusing it once it grows past `maxBytes` (the Content-Length is not trusted: the
 * stream is cut as it passes the limit) and giving up after `timeoutMs` in all.
 */
export async function fetchBody(url: string, o: { timeoutMs: number; maxBytes: number; headers: Record<string, string>; signal?: AbortSignal }): Promise<Uint8Array | undefined> {
  // Feed URLs often carry an API key (`?key=…`): what is said of one never shows it.
  const shown = redactSecrets(url);
  const signal = o.signal ? AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs)]) : AbortSignal.timeout(o.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/x-protobuf, application/octet-stream, text/csv, */*', ...o.headers }, signal, redirect: 'follow' });
  } catch (err) {
    throw asFetchError(err, shown);
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new FetchError('FEED_HTTP_STATUS', `${shown} answered HTTP ${res.status}`);
  }
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > o.maxBytes) {
    await res.body?.cancel();
    throw new FetchError('FEED_TOO_LARGE', `${shown} announces ${declared} bytes, over the ${o.maxBytes}-byte limit`);
  }
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body?.getReader();
  try {
    for (;;) {
      if (!reader) break;
      const { done, value: chunk } = await reader.read();
      if (done) break;
      n += chunk.byteLength;
      if (n > o.maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new FetchError('FEED_TOO_LARGE', `${shown} sent more than the ${o.maxBytes}-byte limit`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    throw asFetchError(err, shown);
  }
  return Buffer.concat(chunks, n);
}

function asFetchError(err: unknown, url: string): FetchError {
  if (err instanceof FetchError) return err;
  const e = err as Error & { cause?: { code?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return new FetchError('FEED_TIMEOUT', `${url} did not answer in time`);
  return new FetchError('FEED_UNREACHABLE', `${url}: ${e.cause?.code ?? e.message}`);
}

/** The static feed's files from a directory or an http(s) base URL. */
export function staticReader(where: string, o: { timeoutMs: number; maxBytes: number; headers: Record<string, string> }): GtfsReader {
  if (/^https?:\/\//.test(where)) {
    const base = where.endsWith('/') ? where : `${where}/`;
    return async (file) => {
      const body = await fetchBody(base + file, o);
      return body === undefined ? undefined : Buffer.from(body).toString('utf8');
    };
  }
  const dir = resolve(where);
  return async (file) => {
    const path = join(dir, file);
    const st = await stat(path).catch(() => undefined);
    if (!st) return undefined;
    if (st.size > o.maxBytes) throw new FetchError('FEED_TOO_LARGE', `${path} is ${st.size} bytes, over static_max_bytes (${o.maxBytes})`);
    return readFile(path, 'utf8');
  };
}
