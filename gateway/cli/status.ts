import { loadConfig } from '../config/load.js';
import { DEFAULT_CONFIG, type Command } from './common.js';
import { dialHost } from '../model/hosts.js';
import { namedTokens, type GatewayConfig } from '../config/schema.js';
import { redactSecrets } from '../model/redact.js';

/**
 * `fcgw status`: a running gateway's health in a few lines, from its own HTTP API, for the
 * person on the box and for supervisors (a compose or systemd health check): exit 0 when it is
 * ok, 1 when it is degraded or down, 2 when it cannot be asked.
 */
export const STATUS_USAGE =
  'fcgw status [-c FILE] [--url URL] [--json]\n  A running gateway\'s health: links, sinks, store, devices, alerts (from its HTTP API; the address and token come from the config). Exit 0 ok, 1 degraded or down, 2 unreachable.';

interface Health {
  status: 'ok' | 'degraded' | 'down';
  site: string;
  site_name?: string;
  uptime_s: number;
  drivers: { connection: string; protocol: string; state: string; error?: string; devices: unknown[] }[];
  sinks: { id: string; type: string; state: string; backlog: number; backlogAge: number; lastError: string | null }[];
  store: { bytes?: number; max_disk?: number; wal_bytes?: number; over_cap?: boolean; ingest_queue?: number; last_loss?: { at: string; samples: number; events: number } };
}

export class StatusError extends Error {}

/** Where a config's API listens, as a URL this machine can reach. */
export function apiUrlOf(config: Readonly<GatewayConfig>): string {
  const host = dialHost(config.api.host);
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.api.port}`;
}

export async function runStatus(opts: { url: string; token?: string; json?: boolean; timeoutMs?: number }): Promise<{ text: string; exitCode: number }> {
  const get = async <T>(path: string): Promise<T> => {
    let res: Response;
    try {
      res = await fetch(`${opts.url}${path}`, {
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5_000),
      });
    } catch (err) {
      throw new StatusError(redactSecrets(`no gateway answers at ${opts.url} (${(err as Error).message})`));
    }
    if (!res.ok) throw new StatusError(`${redactSecrets(opts.url)}${path} answered ${res.status}${res.status === 401 ? ' (a token is needed: api.tokens in the config)' : ''}`);
    return (await res.json()) as T;
  };
  const [health, devices, alerts] = await Promise.all([
    get<Health>('/api/health'),
    get<{ id: string; status: string }[]>('/api/devices'),
    get<{ active: number }>('/api/alerts?limit=1'),
  ]);
  const exitCode = health.status === 'ok' ? 0 : 1;
  const byStatus = new Map<string, number>();
  for (const d of devices) byStatus.set(d.status, (byStatus.get(d.status) ?? 0) + 1);
  if (opts.json) {
    return { text: redactSecrets(JSON.stringify({ ...health, devices: Object.fromEntries(byStatus), alerts_active: alerts.active }, null, 2)), exitCode };
  }
  const lines: string[] = [];
  lines.push(`${health.site_name ?? health.site} (${health.site}): ${health.status.toUpperCase()}, up ${duration(health.uptime_s)}`);
  const connected = health.drivers.filter((d) => d.state === 'connected').length;
  lines.push(`links     ${connected} of ${health.drivers.length} connected`);
  const w = Math.max(0, ...health.drivers.map((d) => d.connection.length));
  for (const d of health.drivers) {
    lines.push(`  ${d.connection.padEnd(w)}  ${d.protocol.padEnd(20)} ${d.state.padEnd(10)} ${d.devices.length} devices${d.error ? `  (${d.error})` : ''}`);
  }
  if (health.sinks.length === 0) lines.push('sinks     none');
  else {
    lines.push(`sinks     ${health.sinks.filter((s) => s.state === 'ok').length} of ${health.sinks.length} sending`);
    for (const s of health.sinks) {
      const behind = s.backlog > 0 ? `, ${s.backlog.toLocaleString('en')} waiting (oldest ${duration(s.backlogAge)})` : ', caught up';
      lines.push(`  ${s.id} (${s.type}): ${s.state}${behind}${s.lastError && s.state !== 'ok' ? `  (${s.lastError})` : ''}`);
    }
  }
  const st = health.store;
  const cap = st.max_disk ? ` of ${size(st.max_disk)}` : '';
  lines.push(`store     ${size(st.bytes ?? 0)}${cap}, WAL ${size(st.wal_bytes ?? 0)}, ingest queue ${st.ingest_queue ?? 0}${st.over_cap ? ', OVER THE DISK CAP' : ''}`);
  if (st.last_loss) lines.push(`  the disk cap dropped ${st.last_loss.samples} samples and ${st.last_loss.events} events not yet forwarded (${st.last_loss.at})`);
  const order = ['online', 'stale', 'offline', 'quarantined', 'unknown'];
  const counts = [...byStatus].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b)).map(([k, n]) => `${n} ${k}`);
  lines.push(`devices   ${devices.length}${counts.length ? `: ${counts.join(', ')}` : ''}`);
  lines.push(`alerts    ${alerts.active} active`);
  // A gateway of an older release may still show a URL's password in an error: never print it.
  return { text: redactSecrets(lines.join('\n')), exitCode };
}

function duration(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** Decimal units, as the config writes sizes (`max_disk: 5GB` is 5,000,000,000 bytes). */
function size(bytes: number): string {
  if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(1)} GB`;
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} KB`;
}

export const statusCommand: Command = {
  usage: STATUS_USAGE,
  async run(opts) {
    const config = opts.url ? undefined : loadConfig(opts.config ?? DEFAULT_CONFIG);
    // A read token is enough; an admin token reads too (a config may hold only admin tokens).
    const token = config?.api.tokens[0] ?? (config ? namedTokens(config.api.admin_tokens)[0]?.token : undefined) ?? process.env['FCGW_API_TOKEN'];
    try {
      const res = await runStatus({ url: opts.url ?? apiUrlOf(config as GatewayConfig), ...(token ? { token } : {}), json: opts.json === true });
      process.stdout.write(`${res.text}\n`);
      return res.exitCode;
    } catch (err) {
      if (err instanceof StatusError) {
        process.stderr.write(`fcgw status: ${err.message}\n`);
        return 2;
      }
      throw err;
    }
  },
};
