import { mqttUrlProblem } from '../../drivers/mqtt/connection-schema.js';
import type { ConnectionConfig, SinkConfig } from '../config/schema.js';

/** Schemes each HTTP sink speaks. */
const HTTP_SCHEMES = ['http:', 'https:'];

/**
 * The sinks' part of the one validation (gateway/site): every URL parses and uses a scheme the
 * sink speaks, an mqtt sink borrows an mqtt connection. Paths from the config root.
 */
export function checkSinks(
  sinks: readonly SinkConfig[],
  connections: ReadonlyMap<string, { config: ConnectionConfig }>,
): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  sinks.forEach((s, i) => {
    switch (s.type) {
      case 'influxdb1':
      case 'influxdb2': {
        let u: URL | undefined;
        try {
          u = new URL(s.url);
        } catch {
          u = undefined;
        }
        if (!u) out.push({ path: ['sinks', i, 'url'], message: `"${s.url}" is not a URL (use e.g. http://localhost:8086)` });
        else if (!HTTP_SCHEMES.includes(u.protocol)) out.push({ path: ['sinks', i, 'url'], message: `${u.protocol}// is not a scheme an ${s.type} sink speaks (use http:// or https://)` });
        else if (!u.hostname) out.push({ path: ['sinks', i, 'url'], message: `"${s.url}" names no host` });
        break;
      }
      case 'mqtt': {
        const conn = connections.get(s.connection)?.config;
        if (!conn) out.push({ path: ['sinks', i, 'connection'], message: `no connection "${s.connection}"` });
        else if (conn.protocol !== 'mqtt') out.push({ path: ['sinks', i, 'connection'], message: `connection "${s.connection}" speaks ${conn.protocol}; an mqtt sink needs an mqtt connection` });
        else if (typeof conn['url'] === 'string' && mqttUrlProblem(conn['url'])) out.push({ path: ['sinks', i, 'connection'], message: mqttUrlProblem(conn['url']) as string });
        break;
      }
    }
  });
  return out;
}
