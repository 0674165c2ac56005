import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { SinkConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { httpError, transportError } from './errors.js';
import { joinLines, LineEncoder } from './line-protocol.js';
import { tlsOptions } from './tls.js';
import type { ItemRejection, SinkItem, SinkWriter } from './types.js';

type Influx2Config = Extract<SinkConfig, { type: 'influxdb2' }>;

const gzipAsync = promisify(gzip);
/** Bodies at least this long go compressed (config `gzip`); a tiny body is cheaper plain. */
const GZIP_FROM_BYTES = 1000;

/**
 * InfluxDB 2.x write API (`/api/v2/write`, ms precision, gzip, token) through the official
 * client's transport. Its own WriteApi is not used: it buffers and retries on its own, and a
 * sink must know exactly which lines the server acknowledged before it moves its cursor.
 * VictoriaMetrics accepts the same requests.
 */
export function influxdb2Writer(cfg: Influx2Config, deps: { deviceTags: (device: string) => Record<string, string>; clock: Clock }): SinkWriter<string> {
  // The client's node transport hands transportOptions to https.request: CA, client certificate, verification.
  const tls = tlsOptions(cfg.tls, `sink ${cfg.id ?? 'influxdb2'}`);
  // The client loads with the first influxdb2 sink, not with the gateway.
  const { InfluxDB } = createRequire(import.meta.url)('@influxdata/influxdb-client') as typeof import('@influxdata/influxdb-client');
  const client = new InfluxDB({ url: cfg.url, token: cfg.token, timeout: cfg.timeout, ...(tls ? { transportOptions: { ...tls } } : {}) });
  const path = `/api/v2/write?org=${encodeURIComponent(cfg.org)}&bucket=${encodeURIComponent(cfg.bucket)}&precision=ms`;
  const encoder = new LineEncoder(deps.deviceTags);
  /**
   * One write through the client's transport: its headers, token, TLS, timeout and errors
   * (HttpError with status, body and retry-after). A compressed body is handed over as bytes
   * with its content-encoding, and no gzipThreshold, so the transport sends it as it is.
   */
  const post = (body: string | Buffer, signal: AbortSignal): Promise<void> => {
    // The transport adds an abort listener to the signal it is given and never removes it; a
    // batch's signal serves every request that isolates refused points, so each request gets a
    // signal of its own, tied to the batch's only while the request runs.
    const own = new AbortController();
    const abort = () => own.abort();
    if (signal.aborted) own.abort();
    else signal.addEventListener('abort', abort, { once: true });
    return new Promise<void>((resolve, reject) => {
      const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
      if (typeof body !== 'string') headers['content-encoding'] = 'gzip';
      // The transport reads the body with Buffer.from(body, 'utf-8'): bytes pass through unchanged.
      client.transport.send(path, body as string, { method: 'POST', headers, signal: own.signal }, { error: reject, complete: () => resolve() });
    }).finally(() => signal.removeEventListener('abort', abort));
  };
  const sendPacked = async (packed: unknown, signal: AbortSignal): Promise<void> => {
    const text = packed as string;
    try {
      if (cfg.gzip && text.length >= GZIP_FROM_BYTES) await post(await gzipAsync(text, { level: cfg.gzip_level }), signal);
      else await post(text, signal);
    } catch (err) {
      const e = err as { name?: string; statusCode?: number; body?: string; message?: string; headers?: Record<string, string | string[] | undefined> };
      if (e?.name === 'HttpError' && typeof e.statusCode === 'number') {
        const ra = e.headers?.['retry-after'];
        throw httpError(e.statusCode, e.body ?? e.message ?? '', Array.isArray(ra) ? ra[0] : ra, deps.clock.now());
      }
      throw transportError(err, cfg.timeout);
    }
  };
  return {
    type: 'influxdb2',
    // Idempotent writes: a backlog keeps a few requests on the wire (one compresses while another waits).
    inFlight: 4,
    encode: (item: SinkItem) => (item.log === 'samples' ? encoder.sample(item.record) : encoder.event(item.record)),
    text: (line) => line,
    pack: joinLines,
    sendPacked,
    async send(batch, signal): Promise<ItemRejection[]> {
      if (batch.length) await sendPacked(joinLines(batch), signal);
      return [];
    },
  };
}
