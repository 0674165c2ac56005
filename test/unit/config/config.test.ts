import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig, parseConfigText } from '../../../gateway/config/load.js';
import { siteOf } from '../../../gateway/site/index.js';
import { formatDuration, parseDuration, parseSize } from '../../../gateway/model/config-units.js';
import { tempDir } from '../../helpers/peers.js';

const minimal = 'version: 1\nsite: { id: test-site }\n';

/** The one validation (gateway/site) of a config text: its problems as check-config prints them. */
function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  const parsed = parseConfigText(text, env);
  const r = parsed.config ? siteOf(parsed.config, { lineOf: parsed.lineOf }) : { ok: false as const, problems: parsed.problems };
  return r.ok ? [] : r.problems.map((p) => `${p.path} (line ${p.line}): ${p.message}`);
}

describe('durations and sizes', () => {
  it.each([
    ['500ms', 500],
    ['5s', 5000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['30d', 2_592_000_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['5', '5 sec', 's', '', '5x', '-5s', '30days'])('%s is not a duration', (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );

  it.each([
    ['5GB', 5e9],
    ['512MB', 512e6],
    ['1GiB', 1024 ** 3],
    ['100kB', 100e3],
    ['1.5 GB', 1.5e9],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it('rejects sizes without a unit', () => expect(parseSize('5000')).toBeUndefined());
  it('formats durations back', () => expect([formatDuration(86_400_000), formatDuration(1500)]).toEqual(['1d', '1500ms']));
});

describe('config validation', () => {
  it('fills defaults and freezes the result', () => {
    const c = parseConfig(minimal, 'x.yaml', {});
    expect(c.site.timezone).toBe('Asia/Shanghai');
    expect(c.store.retention.raw).toBe(30 * 86_400_000);
    expect(c.store.max_disk).toBe(5e9);
    expect(c.api).toMatchObject({ host: '127.0.0.1', port: 8080 });
    expect(c.emission_factor.value).toBe(0.55);
    expect(Object.isFrozen(c.store.retention)).toBe(true);
  });

  it('names a misspelt top-level key and a malformed duration with path and line', () => {
    const text = `version: 1
site: { id: test-site }
sinkz: []
store:
  path: ./x.db
  retention: { raw: 30 days }
`;
    expect(problems(text)).toEqual([
      'store.retention.raw (line 6): "30 days" is not a duration (use e.g. 500ms, 5s, 10m, 2h, 30d)',
      'sinkz (line 3): unknown key (did you mean "sinks"?)',
    ]);
  });

  it('reports unknown keys deep inside lists at their own line', () => {
    const text = `${minimal}connections:
  - id: bus
    protocol: modbus-tcp
    host: 127.0.0.1
    timout: 1s
`;
    expect(problems(text)).toEqual(['connections[0].timout (line 7): unknown key (did you mean "timeout"?)']);
  });

  it('interpolates ${ENV} and ${ENV:-default} in values, and reports a missing variable', () => {
    const text = `${minimal}store: { path: "\${DATA_DIR}/gw.db", max_disk: "\${MAX_DISK:-1GB}" }\n`;
    const c = parseConfig(text, 'x.yaml', { DATA_DIR: '/var/lib/fcgw' });
    expect(c.store.path).toBe('/var/lib/fcgw/gw.db');
    expect(c.store.max_disk).toBe(1e9);
    expect(problems(text)).toEqual(['store.path (line 3): environment variable DATA_DIR is not set']);
  });

  it('checks references, unique ids, one connection per endpoint and known names', () => {
    const text = `${minimal}connections:
  - { id: a, protocol: modbus-tcp, host: 10.0.0.5 }
  - { id: b, protocol: modbus-tcp, host: 10.0.0.5, port: 502 }
devices:
  - { id: pv1, class: pv_inverter, connection: a, unit: 1, profile: sunspec }
  - { id: pv1, class: pv_invertr, connection: c, profile: sunspec }
targets:
  - { kpi: self_sufficency, window: month, min: 0.3 }
`;
    expect(problems(text)).toEqual([
      'connections[1].host (line 5): 10.0.0.5:502 is already opened by connection "a"; put both devices on one connection',
      'devices[1].id (line 8): duplicate device id "pv1"',
      'devices[1].class (line 8): unknown device class "pv_invertr" (did you mean "pv_inverter"?)',
      'devices[1].connection (line 8): no connection "c" (did you mean "a"?)',
      'targets[0].kpi (line 10): unknown KPI "self_sufficency" (did you mean "self_sufficiency"?)',
    ]);
  });

  it('requires broker users and API tokens off loopback', () => {
    const text = `${minimal}broker: { embedded: { host: 0.0.0.0 } }\napi: { host: 0.0.0.0 }\n`;
    expect(problems(text)).toEqual([
      'broker.embedded.users (line 3): the embedded broker listens on 0.0.0.0: users are required off loopback',
      'api.tokens (line 4): the API listens on 0.0.0.0: tokens are required off loopback',
    ]);
  });

  it('takes admin tokens alone off loopback, and checks the api limits', () => {
    expect(problems(`${minimal}api: { host: 0.0.0.0, admin_tokens: [admin-token-0123456789] }\n`)).toEqual([]);
    const text = `${minimal}api:
  tokens: [same-token-0123456789]
  admin_tokens: [same-token-0123456789]
  allowed_hosts: ["gw.lan:8080"]
  limits: { header_timeout: 20s, request_timeout: 10s, live_streams: 2, live_streams_per_client: 3, live_buffer: 1kB }
`;
    // The shape is checked first (a port in a host name); the checks across keys run on a config
    // whose shape is right, so each problem is reported once, against what was meant.
    expect(problems(text)).toEqual(['api.allowed_hosts[0] (line 6): must be a host name or address without a port']);
    expect(problems(text.replace('"gw.lan:8080"', 'gw.lan'))).toEqual([
      'api.admin_tokens[0] (line 5): this token is also in api.tokens: give each scope its own token',
      'api.limits.request_timeout (line 7): must not be shorter than header_timeout',
      'api.limits.live_streams_per_client (line 7): must not exceed live_streams',
      'api.limits.live_buffer (line 7): must be at least 4kB',
    ]);
    const c = parseConfig(minimal, 'x.yaml', {});
    expect(c.api).toMatchObject({ tokens: [], admin_tokens: [], allowed_hosts: [], limits: { header_timeout: 10_000, request_timeout: 30_000, live_streams: 64, live_buffer: 1_000_000 } });
  });

  it('rejects a clear-text broker password and a wrong type', () => {
    const text = `${minimal}broker: { embedded: { users: [{ username: meter, password_hash: hunter2 }] } }\napi: { port: "80" }\n`;
    expect(problems(text)).toEqual([
      'broker.embedded.users[0].password_hash (line 3): must be a hash from `fcgw hash-password` (starts with "scrypt$")',
      'api.port (line 4): Invalid input: expected number, received string',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(problems('version: 1\nsite: { id: x\n')[0]).toMatch(/line \d/);
  });
});

describe('every YAML under config/', () => {
  const dir = join(import.meta.dirname, '../../../config');
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
  it('has the example and the demo', () => expect(files).toEqual(expect.arrayContaining(['example.yaml', 'demo.yaml'])));
  it.each(files)('%s validates', (f) => {
    const env = { INFLUX_TOKEN: 'test-token-0123456789', FCGW_API_TOKEN: 'test-token-0123456789abcdef', OCPP_CP_B3_01_PASSWORD: 'charger-password-0123', OCPP_PASSWORD: 'charger-password-4567', TRANSIT_API_KEY: 'agency-key-0123' };
    const text = readFileSync(join(dir, f), 'utf8');
    expect(problems(text, env)).toEqual([]);
  });
});

describe('fcgw check-config', () => {
  const bin = join(import.meta.dirname, '../../../bin/fcgw.js');
  it('exits 2 with one line per problem, and 0 on a valid file', () => {
    const { dir, cleanup } = tempDir();
    try {
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'version: 1\nsite: { id: x }\nsinkz: []\nstore: { retention: { raw: 30days } }\n');
      const r = spawnSync(process.execPath, [bin, 'check-config', bad], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n').filter((l) => l.includes('(line '))).toEqual([
        'store.retention.raw (line 4): "30days" is not a duration (use e.g. 500ms, 5s, 10m, 2h, 30d)',
        'sinkz (line 3): unknown key (did you mean "sinks"?)',
      ]);
      const good = join(dir, 'good.yaml');
      writeFileSync(good, minimal);
      const ok = spawnSync(process.execPath, [bin, 'check-config', good], { encoding: 'utf8' });
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain('valid');
    } finally {
      cleanup();
    }
  });
});
