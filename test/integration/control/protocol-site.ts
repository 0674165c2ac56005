import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { freePort } from '../../helpers/peers.js';
import { ADMIN, READ } from './site.js';

/**
 * A gateway for one protocol's command test: the simulators of `scenario` (YAML text; `{port}` is
 * replaced by a free port), `body` (connections and devices; `{port}` likewise), the API with the
 * read and admin tokens of site.ts. Returns the gateway and a caller of its command route.
 */
export async function protocolSite(dir: string, id: string, scenario: string, body: string): Promise<{ gw: Gateway; command: CommandCaller }> {
  const [port, api] = [await freePort(), await freePort()];
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, scenario.replaceAll('{port}', String(port)));
  const yaml = `version: 1
site: { id: ${id}, timezone: Asia/Shanghai, latitude: 30.27, longitude: 120.15 }
store: { path: ${join(dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${api}, tokens: [${READ}], admin_tokens: [{ name: ops-desk, token: ${ADMIN} }] }
logging: { level: warn }
simulators: { enabled: true, speed: 1, seed: 7, scenario: ${file} }
${body.replaceAll('{port}', String(port))}`;
  const config = parseConfig(yaml, join(dir, 'gw.yaml'), {});
  const gw = Gateway.create({ config, log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
  await gw.start();
  const base = gw.apiUrl as string;
  const command: CommandCaller = async (device, payload, token = ADMIN) => {
    const res = await fetch(`${base}/api/devices/${device}/commands`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(payload),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  return { gw, command };
}

/** POST a command; `token` null sends none. */
export type CommandCaller = (device: string, body: Record<string, unknown>, token?: string | null) => Promise<{ status: number; body: Record<string, unknown> }>;
