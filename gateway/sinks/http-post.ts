import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TlsOptions } from './tls.js';

export interface PostResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Error bodies longer than this are cut (an error page is not worth more memory). */
const MAX_BODY = 64 * 1024;

/**
 * POST a text body with node's http(s) (its fetch cannot be given a CA without undici's
 * Agent). A timeout rejects with a TimeoutError, the caller's signal with an AbortError.
 */
export function postText(url: URL, init: { headers: Record<string, string>; body: string; signal: AbortSignal; timeoutMs: number; tls?: TlsOptions | undefined }): Promise<PostResult> {
  const timeout = AbortSignal.timeout(init.timeoutMs);
  const signal = AbortSignal.any([init.signal, timeout]);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const body = Buffer.from(init.body);
  return new Promise((resolve, reject) => {
    const fail = (err: unknown) => reject(timeout.aborted ? timeout.reason : err);
    const req = request(url, { method: 'POST', headers: { ...init.headers, 'content-length': String(body.length) }, signal, ...(init.tls ?? {}) }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        if (size < MAX_BODY) chunks.push(c);
        size += c.length;
      });
      res.on('error', fail);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY) }));
    });
    req.on('error', fail);
    req.end(body);
  });
}
