import mqtt from 'mqtt';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';

interface Health {
  status: string;
  site_name: string;
}

/**
 * `kill -HUP`: a config with a problem is refused and the gateway keeps running as it was; a new
 * device is applied to its connection alone (reconfigure.test.ts has the details); any other
 * valid change restarts the gateway in the same process, keeping everything the store holds.
 */
describe('config reload on SIGHUP', () => {
  it('refuses a broken config and keeps running; applies a valid one without losing data', async () => {
    const { dir, cleanup } = tempDir('fcgw-reload-');
    const [apiPort, mqttPort] = [await freePort(), await freePort()];
    const file = join(dir, 'gw.yaml');
    const config = (name: string, extra = '', devices = ['meter-1']) => `version: 1
site: { id: reload, name: ${name} }
store: { path: ${join(dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${mqttPort} } }
api: { host: 127.0.0.1, port: ${apiPort} }
connections: [{ id: local, protocol: mqtt, url: embedded }]
devices: [${devices.map((id) => `{ id: ${id}, class: grid_meter, connection: local, profile: generic-json }`).join(', ')}]
${extra}`;
    writeFileSync(file, config('Alpha'));
    const gw = await startGatewayProcess(file);
    const api = gw.apiUrl;
    const health = async () => (await (await fetch(`${api}/api/health`)).json()) as Health;
    try {
      // One reading committed under the first config (QoS 1: the PUBACK follows the commit).
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { reconnectPeriod: 0 });
      await c.publishAsync('devices/meter-1/up', JSON.stringify({ ts: Date.now(), values: { power: 1234 } }), { qos: 1 });
      await c.endAsync();
      const latest = async () => (await (await fetch(`${api}/api/latest?device=meter-1`)).json()) as { metric: string; value: number }[];
      expect((await latest()).find((r) => r.metric === 'power')?.value).toBe(1234);

      // A typo: refused, said in the log with its line, and the gateway goes on as before.
      writeFileSync(file, config('Beta', 'sinkz: []\n'));
      gw.proc.kill('SIGHUP');
      await waitFor(() => gw.stdout().includes('config reload refused'), 10_000);
      expect(gw.stdout()).toContain('sinkz (line 8): unknown key (did you mean \\"sinks\\"?)');
      expect(await health()).toMatchObject({ status: 'ok', site_name: 'Alpha' });

      // A new device: applied to its connection alone, the rest of the gateway untouched.
      writeFileSync(file, config('Alpha', '', ['meter-1', 'meter-2']));
      gw.proc.kill('SIGHUP');
      await waitFor(() => gw.stdout().includes('config applied per connection'), 10_000);
      expect(gw.stdout()).toMatch(/"restarted":\["local"\]/);
      const ids = (await (await fetch(`${api}/api/devices`)).json()) as { id: string }[];
      expect(ids.map((d) => d.id).sort()).toEqual(['meter-1', 'meter-2']);

      // Any other change: the gateway restarts in the same process; what was stored is still there.
      writeFileSync(file, config('Beta', '', ['meter-1', 'meter-2']));
      gw.proc.kill('SIGHUP');
      await waitFor(async () => (await health().catch(() => undefined))?.site_name === 'Beta', 15_000);
      expect(gw.proc.exitCode).toBeNull();
      expect((await latest()).find((r) => r.metric === 'power')?.value).toBe(1234);

      gw.proc.kill('SIGTERM');
      expect((await gw.exited).code).toBe(0);
    } finally {
      if (gw.proc.exitCode === null) gw.proc.kill('SIGKILL');
      cleanup();
    }
  }, 60_000);
});
