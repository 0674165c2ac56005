import { loadConfig } from '../config/load.js';
import { namedTokens } from '../config/schema.js';
import { redactSecrets } from '../model/redact.js';
import { DEFAULT_CONFIG, type Command } from './common.js';
import { apiUrlOf } from './status.js';

/**
 * `fcgw command DEVICE COMMAND [VALUE]`: one command to a device of a running gateway, through
 * its API (POST /api/devices/:id/commands) with an admin token, so the CLI gets the same checks,
 * read-back and audit as any caller. Exit 0 when done (or a dry run passed), 1 when refused or
 * failed, 2 when the gateway cannot be asked.
 */
export const COMMAND_USAGE =
  'fcgw command [-c FILE] [--url URL] DEVICE COMMAND [VALUE] [--dry-run] [--key KEY] [--json]\n  Tell a device of a running gateway what to do (sg_ready recommend, power_setpoint -20000, open, unlock A-12), with an admin token (FCGW_ADMIN_TOKEN, else the config\'s first api.admin_tokens); the gateway checks bounds, interlocks and dwell, reads the result back and audits it. Exit 0 done, 1 refused or failed, 2 unreachable.';

/** A value as typed: JSON where it parses (true, -20000, null), else the text itself (recommend, A-12). */
export function valueOf(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? text : v;
  } catch {
    return text;
  }
}

export async function runCommand(o: { url: string; token: string | undefined; device: string; command: string; value?: unknown; dryRun?: boolean; key?: string; json?: boolean }): Promise<{ text: string; exitCode: number }> {
  const body = { command: o.command, ...(o.value !== undefined ? { value: o.value } : {}), ...(o.dryRun ? { dry_run: true } : {}), ...(o.key ? { idempotency_key: o.key } : {}) };
  let res: Response;
  try {
    res = await fetch(`${o.url}/api/devices/${encodeURIComponent(o.device)}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(o.token ? { authorization: `Bearer ${o.token}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (err) {
    return { text: redactSecrets(`no gateway answers at ${o.url} (${(err as Error).message})`), exitCode: 2 };
  }
  const out = (await res.json().catch(() => ({}))) as Record<string, unknown> & { error?: { message?: string } };
  if (o.json) return { text: JSON.stringify(out, null, 2), exitCode: res.ok ? 0 : res.status === 401 || res.status === 403 ? 2 : 1 };
  if (res.status === 401 || res.status === 403) return { text: `refused (${res.status}): ${out.error?.message ?? ''} (set FCGW_ADMIN_TOKEN or api.admin_tokens)`, exitCode: 2 };
  const what = `${o.device} ${o.command}${o.value !== undefined ? ` ${JSON.stringify(o.value)}` : ''}`;
  const status = String(out['status'] ?? res.status);
  if (res.ok) {
    const rb = out['read_back'] !== undefined ? `, read back ${JSON.stringify(out['read_back'])}` : '';
    return { text: `${what}: ${status}${rb} (audit #${String(out['id'])}${out['replayed'] ? ', a repeat of that command' : ''})`, exitCode: 0 };
  }
  return { text: `${what}: ${status} ${String(out['code'] ?? '')}: ${out.error?.message ?? String(out['reason'] ?? '')}${out['id'] !== undefined ? ` (audit #${String(out['id'])})` : ''}`, exitCode: 1 };
}

export const commandCommand: Command = {
  usage: COMMAND_USAGE,
  async run(opts, positionals) {
    const [device, command, value] = positionals;
    if (!device || !command || positionals.length > 3) {
      process.stderr.write(`${COMMAND_USAGE}\n`);
      return 2;
    }
    const config = opts.url ? undefined : loadConfig(opts.config ?? DEFAULT_CONFIG);
    const token = process.env['FCGW_ADMIN_TOKEN'] ?? (config ? namedTokens(config.api.admin_tokens)[0]?.token : undefined);
    const url = opts.url ?? apiUrlOf(config as NonNullable<typeof config>);
    const res = await runCommand({ url, token, device, command, value: valueOf(value), dryRun: opts['dry-run'] === true, ...(opts.key ? { key: opts.key } : {}), json: opts.json === true });
    (res.exitCode === 0 ? process.stdout : process.stderr).write(`${res.text}\n`);
    return res.exitCode;
  },
};
