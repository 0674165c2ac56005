import { redactSecrets, urlCredentials } from '../model/redact.js';
import type { GatewayConfig } from './schema.js';

/**
 * `check-config` warnings for credentials written inside a URL. They still work (the MQTT driver
 * and the InfluxDB 1.x sink take them when the separate fields are empty) and are redacted
 * wherever a URL is shown, but a URL travels: into tickets, screenshots, shell history. The
 * separate fields can take the secret from the environment (`password: ${MQTT_PASSWORD}`).
 */
export function urlCredentialWarnings(config: Readonly<GatewayConfig>): string[] {
  const out: string[] = [];
  const check = (path: string, url: string, fields: string) => {
    const found = urlCredentials(url);
    if (!found) return;
    const what = found.password !== undefined || found.params.length ? 'a password' : 'a user name or token';
    out.push(`${path}: the URL carries ${what} (${redactSecrets(url)}); put it in ${fields}, from the environment (e.g. password: \${MQTT_PASSWORD}), not in the URL`);
  };
  config.connections.forEach((c, i) => {
    // A connection's own keys belong to its driver's schema; here only its URL-like ones are read.
    const own = c as Readonly<Record<string, unknown>>;
    for (const key of ['url', 'endpoint', 'upstream']) {
      const v = own[key];
      if (typeof v === 'string') check(`connections[${i}].${key}`, v, `connections[${i}].username and .password`);
    }
  });
  config.sinks.forEach((s, i) => {
    if (s.type === 'influxdb1') check(`sinks[${i}].url`, s.url, `sinks[${i}].username and .password`);
    else if (s.type === 'influxdb2') check(`sinks[${i}].url`, s.url, `sinks[${i}].token`);
  });
  return out;
}
