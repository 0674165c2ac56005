import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { loadConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { registerSynth } from '../web/synthetic.js';

/** `fcgw status` against a running gateway: what an operator or a health check reads, and its exit code. */
const BIN = join(import.meta.dirname, '../../../bin/fcgw.js');
const status = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  promisify(execFile)(process.execPath, [BIN, 'status', ...args], { encoding: 'utf8', env: { ...process.env, ...env } }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
const cleanup = cleanupsAfterEach();

describe('fcgw status', () => {
  it('ok with exit 0; degraded with the reason and exit 1; a gateway that is not there is exit 2', async () => {
    const t = tempDir('fcgw-status-');
    cleanup(t.cleanup);
    const [apiPort, mqttPort, deadPort] = [await freePort(), await freePort(), await freePort()];
    const file = join(t.dir, 'gw.yaml');
    const token = 'status-test-token-0123456789';
    writeFileSync(
      file,
      `version: 1
site: { id: status-test, name: Status Test }
store: { path: ${join(t.dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${mqttPort} } }
api: { host: 127.0.0.1, port: ${apiPort}, tokens: [${token}] }
connections: [{ id: local, protocol: mqtt, url: embedded }]
sinks: [{ id: district, type: influxdb2, url: "http://127.0.0.1:${deadPort}", token: t, org: fc, bucket: b, flush_interval: 50ms, backoff_max: 1s, timeout: 1s }]
`,
    );
    const gw = Gateway.create({ config: loadConfig(file, {}), log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
    await gw.start();
    cleanup(() => gw.stop());

    // Nothing to send yet: ok. The token comes from the config.
    const ok = await status(['-c', file]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^Status Test \(status-test\): OK, up \d+ s$/);
    expect(lines).toContain('links     1 of 1 connected');
    expect(lines).toContain('  district (influxdb2): ok, caught up');
    expect(lines).toContain('devices   0');
    expect(lines).toContain('alerts    0 active');

    // Something to send to a server that is not there: degraded, and why.
    registerSynth(gw, [{ id: 'qa-meter', class: 'grid_meter', tags: {} }]);
    await gw.ingestor.submit({ readings: [1, 2, 3].map((i) => ({ device: 'qa-meter', metric: 'power', value: i, ts: gw.clock.now() - 10_000 + i })) });
    await waitFor(() => gw.health().status === 'degraded', 10_000);
    const bad = await status(['-c', file]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/: DEGRADED, up /);
    expect(bad.stdout).toMatch(/\n {2}district \(influxdb2\): backoff, 3 waiting \(oldest \d+ s\) {2}\(.*ECONNREFUSED.*\)\n/);
    expect(bad.stdout).toContain('devices   1: 1 online');
    expect(bad.stdout).toMatch(/\nstore {5}\d+ KB of 5\.0 GB, WAL \d+ KB, ingest queue 0\n/);
    // With --url there is no config to take the token from: refused, unless FCGW_API_TOKEN gives it.
    const refused = await status(['--url', gw.apiUrl as string, '--json']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/answered 401 \(a token is needed/);
    const json = await status(['--url', gw.apiUrl as string, '--json'], { FCGW_API_TOKEN: token });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'degraded', site: 'status-test', devices: { online: 1 }, alerts_active: 0, sinks: [{ id: 'district', state: 'backoff', backlog: 3 }] });

    // A config that holds only admin tokens: status reads with one of those (an admin token reads too).
    const adminOnly = join(t.dir, 'admin-only.yaml');
    writeFileSync(adminOnly, readFileSync(file, 'utf8').replace(`tokens: [${token}]`, `admin_tokens: [${token}]`));
    const admin = await status(['-c', adminOnly, '--json']);
    expect(admin.stderr).toBe('');
    expect(JSON.parse(admin.stdout)).toMatchObject({ site: 'status-test' });
    // The broker's open sockets, logged in or not (a socket that never sends CONNECT), are in the health report.
    const sockets = () => (gw.health() as { broker?: { open_sockets?: number } }).broker?.open_sockets;
    const before = sockets() ?? -1;
    const raw = connect(mqttPort, '127.0.0.1');
    await waitFor(() => sockets() === before + 1, 5_000);
    raw.destroy();
    await waitFor(() => sockets() === before, 5_000);

    // Nobody there.
    const none = await status(['--url', `http://127.0.0.1:${deadPort}`]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^fcgw status: no gateway answers at http:\/\/127\.0\.0\.1:\d+ /);
  }, 40_000);
});
