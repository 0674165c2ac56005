import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';

const READ = 'reload-read-token-0123456789';
const ADMIN = 'reload-admin-token-0123456789';

/** POST /api/reload under `fcgw start`: the same reload as SIGHUP, for admin tokens only. */
describe('POST /api/reload', () => {
  it('reloads the config file for an admin token and refuses read tokens and no token', async () => {
    const { dir, cleanup } = tempDir('fcgw-api-reload-');
    const apiPort = await freePort();
    const file = join(dir, 'gw.yaml');
    const config = (name: string) => `version: 1
site: { id: reload, name: ${name} }
store: { path: ${join(dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${apiPort}, tokens: [${READ}], admin_tokens: [${ADMIN}] }
`;
    writeFileSync(file, config('Alpha'));
    const gw = await startGatewayProcess(file);
    const api = gw.apiUrl;
    const siteName = async () =>
      ((await (await fetch(`${api}/api/health`, { headers: { authorization: `Bearer ${READ}` } })).json()) as { site_name: string }).site_name;
    const reload = (headers: Record<string, string>, query = '') => fetch(`${api}/api/reload${query}`, { method: 'POST', headers });
    try {
      expect(await siteName()).toBe('Alpha');
      writeFileSync(file, config('Beta'));
      expect((await reload({})).status).toBe(401);
      expect((await reload({ authorization: `Bearer ${READ}` })).status).toBe(403);
      expect((await reload({}, `?access_token=${READ}`)).status).toBe(403);
      expect(gw.stdout()).not.toContain('config reload');
      expect(await siteName()).toBe('Alpha');

      const res = await reload({ authorization: `Bearer ${ADMIN}` });
      expect(res.status).toBe(202);
      expect(await res.json()).toMatchObject({ status: 'reloading' });
      // A new site name cannot be applied in place: the gateway restarts in the same process.
      await waitFor(async () => (await siteName().catch(() => undefined)) === 'Beta', 15_000);
      expect(gw.stdout()).toContain('config reload requested over the API');
      // The new site answers as the restart completes; its log line may reach the pipe just after.
      await waitFor(() => gw.stdout().includes('config reloaded') || undefined, 5_000);
      expect(gw.proc.exitCode).toBeNull();
      for (const secret of [READ, ADMIN]) expect(gw.stdout() + gw.stderr()).not.toContain(secret);

      gw.proc.kill('SIGTERM');
      expect((await gw.exited).code).toBe(0);
    } finally {
      if (gw.proc.exitCode === null) gw.proc.kill('SIGKILL');
      cleanup();
    }
  }, 60_000);
});
