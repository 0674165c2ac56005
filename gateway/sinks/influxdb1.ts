import type { SinkConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { withoutCredentials } from '../model/redact.js';
import { httpError, transportError } from './errors.js';
import { postText, type PostResult } from './http-post.js';
import { joinLines, LineEncoder } from './line-protocol.js';
import { tlsOptions } from './tls.js';
import type { ItemRejection, SinkItem, SinkWriter } from './types.js';

type Influx1Config = Extract<SinkConfig, { type: 'influxdb1' }>;

/**
 * InfluxDB 1.x (`/write?db=&rp=&precision=ms`, basic auth) with node's fetch: Debian's 1.6
 * has no /api/v2/write. A field type conflict comes back as 400 "partial write": the other
 * points of the request were written, and the runner isolates the refused ones.
 */
export function influxdb1Writer(cfg: Influx1Config, deps: { deviceTags: (device: string) => Record<string, string>; clock: Clock }): SinkWriter<string> {
  const given = new URL('write', cfg.url.endsWith('/') ? cfg.url : `${cfg.url}/`);
  // fetch refuses a URL with credentials (and its error repeats the URL): they become basic auth
  // when the separate fields are absent, and the request URL never carries them.
  const username = cfg.username ?? (given.username ? decodeURIComponent(given.username) : undefined);
  const password = cfg.password ?? (cfg.username === undefined && given.password ? decodeURIComponent(given.password) : undefined);
  const url = withoutCredentials(given);
  url.searchParams.set('db', cfg.database);
  if (cfg.retention_policy) url.searchParams.set('rp', cfg.retention_policy);
  url.searchParams.set('precision', 'ms');
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8' };
  if (username !== undefined) {
    headers['authorization'] = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }
  const encoder = new LineEncoder(deps.deviceTags);
  const tls = tlsOptions(cfg.tls, `sink ${cfg.id ?? 'influxdb1'}`);
  const sendPacked = async (packed: unknown, signal: AbortSignal): Promise<void> => {
    let res: PostResult;
    try {
      res = await postText(url, { headers, body: packed as string, signal, timeoutMs: cfg.timeout, tls });
    } catch (err) {
      throw transportError(err, cfg.timeout);
    }
    if (res.status >= 200 && res.status < 300) return;
    const ra = res.headers['retry-after'];
    throw httpError(res.status, res.body, Array.isArray(ra) ? ra[0] : ra, deps.clock.now());
  };
  return {
    type: 'influxdb1',
    // Idempotent writes (same series, same timestamp): a backlog keeps a few requests on the wire.
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
