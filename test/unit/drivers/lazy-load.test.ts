import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/**
 * What a gateway with no connections may load of the package's own dependencies: the config's
 * validation, the store, the API, the log and the metrics. Every protocol library (node-opcua,
 * ocpp-rpc, ws, modbus-serial, serialport, mqtt, aedes, a sink's client, pino-pretty, the GTFS
 * bindings…) loads only when the config uses it (drivers/README.md: lazy loading).
 */
const ALWAYS = new Set(['zod', 'yaml', 'pino', 'fastify', 'better-sqlite3', 'prom-client']);

/** Tools that compile the gateway rather than run in it; never loaded by the gateway itself. */
const BUILD_TOOLS = ['tsx', 'esbuild'];

const dir = mkdtempSync(join(tmpdir(), 'fcgw-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run `body` (ESM, top-level await) in a fresh Node with the tsx loader; the packages it resolved. */
function packagesLoadedBy(body: string): string[] {
  // A resolve hook that prints every file URL resolved, in the loader's thread.
  const hook = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }`;
  const script = join(dir, `probe-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(script, `import { register } from 'node:module';\nregister(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hook)}`)});\n${body}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  const loaded = new Set<string>();
  for (const m of r.stderr.matchAll(/RESOLVED file:\/\/\S*?\/node_modules\/((?:@[^/]+\/)?[^/\s]+)/g)) loaded.add(m[1] as string);
  // require() inside CommonJS packages does not pass the ESM hook: the CommonJS cache lists those.
  for (const m of r.stdout.matchAll(/^CJS (\S+)$/gm)) loaded.add(m[1] as string);
  // The build tools: tsx is the loader these probes run under and loads esbuild itself (esbuild is
  // also the dependency bin/build.js compiles dist/ with, before the gateway starts).
  for (const tool of BUILD_TOOLS) loaded.delete(tool);
  lastLoaded = [...loaded].sort();
  return lastLoaded.filter((p) => p in pkg.dependencies);
}
/** Every package (transitive ones too) the last probe loaded. */
let lastLoaded: string[] = [];

const listCommonJs = `
import { createRequire } from 'node:module';
for (const f of Object.keys(createRequire(import.meta.url).cache)) {
  const m = f.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)/);
  if (m) console.log('CJS ' + m[1]);
}`;

describe('lazy loading of protocol libraries', () => {
  it('loading the CLI, the start command and every driver registration loads no protocol library', () => {
    const loaded = packagesLoadedBy(`
      const { COMMANDS } = await import(${JSON.stringify(join(root, 'gateway/cli/index.ts'))});
      await COMMANDS.start();
      const { DRIVERS } = await import(${JSON.stringify(join(root, 'drivers/index.ts'))});
      if (DRIVERS.length < 6) throw new Error('drivers missing');
      await import(${JSON.stringify(join(root, 'gateway/app.ts'))});
      ${listCommonJs}`);
    expect(loaded.filter((p) => !ALWAYS.has(p))).toEqual([]);
    expect(loaded).toContain('zod');
    // Nor the protocol libraries that come with others (the MQTT driver's own packet codec).
    expect(lastLoaded).not.toContain('mqtt-packet');
  }, 60_000);

  it('a running gateway without connections, broker, sinks or simulators loads none either', () => {
    const config = join(dir, 'empty.yaml');
    writeFileSync(config, `version: 1\nsite: { id: empty, timezone: Asia/Shanghai }\nstore: { path: ${join(dir, 'empty.db')} }\napi: { host: 127.0.0.1, port: 0 }\nconnections: []\ndevices: []\n`);
    const loaded = packagesLoadedBy(`
      const { loadSite } = await import(${JSON.stringify(join(root, 'gateway/site/index.ts'))});
      const { Gateway } = await import(${JSON.stringify(join(root, 'gateway/app.ts'))});
      const { createLogger } = await import(${JSON.stringify(join(root, 'gateway/runtime/log.ts'))});
      const r = loadSite(${JSON.stringify(config)});
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      const gw = Gateway.create({ config: r.site.config, site: r.site, log: createLogger({ level: 'warn' }), processMetrics: false });
      await gw.start();
      const res = await fetch(gw.apiUrl + '/api/health');
      if (!res.ok) throw new Error('health ' + res.status);
      await gw.stop();
      ${listCommonJs}`);
    expect(loaded.filter((p) => !ALWAYS.has(p))).toEqual([]);
    expect(loaded).toEqual(expect.arrayContaining(['better-sqlite3', 'fastify']));
    // No route declares a JSON Schema, so fastify's schema compilers (ajv, and the compilers of
    // fast-json-stringify; fastify's precompiled error serializer uses only its small runtime) never load.
    expect(lastLoaded.filter((p) => /ajv|json-stringify-compiler/.test(p))).toEqual([]);
    expect(lastLoaded).toContain('avvio');
    expect(lastLoaded).not.toContain('mqtt-packet');
  }, 60_000);
});
