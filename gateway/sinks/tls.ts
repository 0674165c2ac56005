import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { SinkConfig } from '../config/schema.js';
import { SinkWriteError } from './errors.js';

/** The `tls` section of an outbound link (a sink's, or the mqtt connection a sink borrows). */
type TlsConfig = NonNullable<Extract<SinkConfig, { type: 'influxdb2' }>['tls']>;

/** Node TLS options for an outbound link: the peer is verified unless the config turns it off. */
export interface TlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/** Reads the configured PEM files (a missing file is a config error naming it). */
export function tlsOptions(tls: TlsConfig | undefined, owner: string): TlsOptions | undefined {
  if (!tls) return undefined;
  const read = (what: 'ca' | 'cert' | 'key', file: string | undefined) => {
    if (file === undefined) return {};
    try {
      return { [what]: readFileSync(file) };
    } catch (err) {
      throw new SinkWriteError('SINK_CONFIG', `${owner}: cannot read tls.${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { ...read('ca', tls.ca), ...read('cert', tls.cert), ...read('key', tls.key), rejectUnauthorized: tls.reject_unauthorized };
}

/** Says so at every start when a sink does not verify its peer: nobody should run that by accident. */
export function warnIfUnverified(log: Logger, owner: string, url: string, tls: TlsConfig | undefined): void {
  if (tls?.reject_unauthorized !== false) return;
  let secure = false;
  try {
    secure = ['https:', 'mqtts:', 'ssl:', 'tls:', 'wss:'].includes(new URL(url).protocol);
  } catch {
    secure = false;
  }
  if (secure)
    log.warn({ sink: owner }, 'TLS certificate verification is OFF (tls.reject_unauthorized: false): anyone on the path can read and change what this sink sends');
}
