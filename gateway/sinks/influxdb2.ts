import { createRequire } from 'node:module';
import type { SinkConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { httpError, transportError } from './errors.js';
import { LineEncoder } from './line-protocol.js';
import { tlsOptions } from './tls.js';
import type { ItemRejection, SinkItem, SinkWriter } from './types.js';

type Influx2Config = Extract<SinkConfig, { type: 'influxdb2' }>;

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
  return {
    type: 'influxdb2',
    // Idempotent writes: a backlog keeps a few requests on the wire (one compresses while another waits).
    inFlight: 4,
    encode: (item: SinkItem) => (item.log === 'samples' ? encoder.sample(item.record) : encoder.event(item.record)),
    text: (line) => line,
    async send(batch, signal): Promise<ItemRejection[]> {
      if (batch.length === 0) return [];
      try {
        await client.transport.request(path, batch.join('\n'), {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          // 0 would gzip even a one-line probe; tiny bodies are cheaper plain.
          ...(cfg.gzip ? { gzipThreshold: 1000 } : {}),
          signal,
        });
        return [];
      } catch (err) {
        const e = err as { name?: string; statusCode?: number; body?: string; message?: string; headers?: Record<string, string | string[] | undefined> };
        if (e?.name === 'HttpError' && typeof e.statusCode === 'number') {
          const ra = e.headers?.['retry-after'];
          throw httpError(e.statusCode, e.body ?? e.message ?? '', Array.isArray(ra) ? ra[0] : ra, deps.clock.now());
        }
        throw transportError(err, cfg.timeout);
      }
    },
  };
}
