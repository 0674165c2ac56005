/**
 * Credentials written inside a URL (`mqtt://user:pass@host`, `http://admin:pw@influx:8086`,
 * `?u=admin&p=pw` on InfluxDB 1.x) must never be shown: not in the log, not in `/api/health`,
 * not in `fcgw status`, not in an error message. Every place that shows a URL, or text that
 * may embed one (a fetch or socket error repeats the URL it was given), passes it through
 * here. Drivers import this file too, so it depends on nothing.
 */

export const REDACTED = '***';

/** Query parameters that carry a secret (InfluxDB 1.x `p`, tokens, API keys). */
const SECRET_PARAMS = new Set(['p', 'password', 'pass', 'pwd', 'token', 'access_token', 'auth', 'apikey', 'api_key', 'key', 'secret']);

// scheme://userinfo@ : the authority ends at the first '/', '?', '#', whitespace or quote; the
// userinfo runs to its last '@' (RFC 3986 §3.2.1), so an unencoded '@' in a password hides too.
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#'"<>]*)@/gi;
// ?name=value or &name=value
const PARAM = /([?&;])([a-z_]+)=([^&#\s'"<>]*)/gi;

/**
 * Text with every URL's password (and any secret query parameter) replaced by `***`.
 * The user name stays (it tells the operator which account is meant); a userinfo without a
 * colon is kept as it is, except when it looks like a token alone (`https://TOKEN@host`),
 * which is common enough for git and InfluxDB proxies to be treated as a secret.
 */
export function redactSecrets(text: string): string {
  if (!text.includes('://') && !text.includes('=')) return text;
  return text
    .replace(USERINFO, (_m, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      if (colon >= 0) return `${scheme}${info.slice(0, colon)}:${REDACTED}@`;
      return `${scheme}${info.length >= 20 ? REDACTED : info}@`;
    })
    .replace(PARAM, (m, sep: string, name: string) => (SECRET_PARAMS.has(name.toLowerCase()) ? `${sep}${name}=${REDACTED}` : m));
}

/** Whether a URL carries a password or secret parameter (config checks point at the separate fields). */
export function urlCredentials(url: string): { username?: string; password?: string; params: string[] } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return redactSecrets(url) === url ? undefined : { params: [] };
  }
  const params = [...u.searchParams.keys()].filter((k) => SECRET_PARAMS.has(k.toLowerCase()));
  if (!u.username && !u.password && params.length === 0) return undefined;
  return {
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    params,
  };
}

/** The URL without its userinfo, for a client that takes the credentials separately. */
export function withoutCredentials(url: URL): URL {
  const u = new URL(url.href);
  u.username = '';
  u.password = '';
  return u;
}
