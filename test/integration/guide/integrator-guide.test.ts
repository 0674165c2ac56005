import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { startGatewayProcess } from '../../helpers/gateway-process.js';
import { findPeer, freePort, IN_CI, killAndWait, tempDir, waitFor } from '../../helpers/peers.js';

/**
 * The integrator's guide (drivers/README.md), followed from an empty directory: every file it
 * prints under a `# file: <path>` line is written as printed; `fcgw profile test` runs each
 * golden file green; `fcgw check-config` accepts both configs; then the Modbus heat meter of the
 * guide is served by pymodbus with the registers of its golden case, and a running gateway
 * stores exactly the samples the case expects. Only the meter's address and the API port are
 * changed from the guide (to loopback and free ports). Nothing is written into the package.
 */
const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/fcgw.js');
const GUIDE = join(ROOT, 'drivers/README.md');
const tmp = tempDir('fcgw-guide-');
const stops: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  tmp.cleanup();
});

function fcgw(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The files the guide prints: a yaml block whose first line is `# file: <path>`. */
function guideFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of readFileSync(GUIDE, 'utf8').matchAll(/```yaml\n(# file: (\S+)\n[\s\S]*?)```/g)) files.set(m[2] as string, m[1] as string);
  return files;
}

function pymodbusPython(): string | undefined {
  const py = findPeer('python3 (with pymodbus)', ['/usr/bin/python3', 'python3']);
  if (!py) return undefined;
  try {
    execFileSync(py, ['-c', 'import pymodbus.server'], { stdio: 'ignore' });
    return py;
  } catch {
    if (IN_CI) throw new Error(`${py} has no pymodbus (apt-get install python3-pymodbus)`);
    return undefined;
  }
}
const PY = pymodbusPython();

/** `git status` of the package, to prove the guide writes nothing into it. */
const packageStatus = () => execFileSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' });

describe('the integrator\'s guide, from an empty directory', () => {
  const before = packageStatus();

  it('prints the profiles, golden cases and configs it talks about; each golden file passes `fcgw profile test`', () => {
    expect(readdirSync(tmp.dir)).toEqual([]);
    const files = guideFiles();
    expect([...files.keys()].sort()).toEqual([
      'cases/heat-meter-hm3.yaml',
      'cases/substation-heat-meter.yaml',
      'cases/tts-water-meter.yaml',
      'gateway.yaml',
      'lora.yaml',
      'profiles/heat-meter-hm3.yaml',
      'profiles/substation-heat-meter.yaml',
      'profiles/tts-water-meter.yaml',
    ]);
    for (const [path, text] of files) {
      mkdirSync(dirname(join(tmp.dir, path)), { recursive: true });
      writeFileSync(join(tmp.dir, path), text);
    }
    for (const id of ['heat-meter-hm3', 'tts-water-meter', 'substation-heat-meter']) {
      const r = fcgw(['profile', 'test', `profiles/${id}.yaml`, `cases/${id}.yaml`]);
      expect(r.out + r.err, id).toMatch(new RegExp(`profile ${id}: \\d+ cases, 0 failed\\n$`));
      expect(r.code, id).toBe(0);
    }
    for (const cfg of ['gateway.yaml', 'lora.yaml']) {
      const r = fcgw(['check-config', cfg]);
      expect(r.err, cfg).toBe('');
      expect(r.out).toBe(`${cfg}: valid\n`);
    }
  });

  it('the schemas the guide\'s files name (fcgw schema) accept them', () => {
    const ajv = new Ajv({ allErrors: true, unknownFormats: 'ignore' });
    for (const [name, files] of [['config', ['gateway.yaml', 'lora.yaml']], ['profile-modbus', ['profiles/heat-meter-hm3.yaml']], ['profile-mqtt', ['profiles/tts-water-meter.yaml']], ['profile-opcua', ['profiles/substation-heat-meter.yaml']]] as const) {
      const r = fcgw(['schema', name]);
      expect(r.code).toBe(0);
      writeFileSync(join(tmp.dir, `${name}.schema.json`), r.out);
      const validate = ajv.compile(JSON.parse(r.out) as object);
      for (const f of files) expect(validate(parse(readFileSync(join(tmp.dir, f), 'utf8'))), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true);
    }
    // The files name them where `fcgw schema` wrote them.
    expect(readFileSync(join(tmp.dir, 'gateway.yaml'), 'utf8')).toContain('# yaml-language-server: $schema=./config.schema.json');
    expect(readFileSync(join(tmp.dir, 'profiles/heat-meter-hm3.yaml'), 'utf8')).toContain('# yaml-language-server: $schema=../profile-modbus.schema.json');
  });

  it('the failure the guide shows is the one `fcgw profile test` prints', () => {
    const cases = join(tmp.dir, 'cases/heat-meter-hm3.yaml');
    const good = readFileSync(cases, 'utf8');
    writeFileSync(cases, good.replace('{ metric: thermal_total, value: 123456000 }', '{ metric: thermal_total, value: 123456 }'));
    const r = fcgw(['profile', 'test', 'profiles/heat-meter-hm3.yaml', 'cases/heat-meter-hm3.yaml']);
    writeFileSync(cases, good);
    expect(r.code).toBe(1);
    const shown = /\$ fcgw profile test profiles\/heat-meter-hm3\.yaml cases\/heat-meter-hm3\.yaml\n([\s\S]*?)```/.exec(readFileSync(GUIDE, 'utf8'))?.[1];
    expect(r.out).toBe(shown);
  });

  it.skipIf(!PY)('a running gateway reads the heat meter (served by pymodbus with the case\'s registers) with the user profile and stores the case\'s samples', async () => {
    const doc = parse(readFileSync(join(tmp.dir, 'cases/heat-meter-hm3.yaml'), 'utf8')) as { cases: { registers: unknown; samples: { metric: string; value: unknown; quality?: string }[] }[] };
    const winter = doc.cases[0];
    if (!winter) throw new Error('no case');
    const port = await freePort();
    const server = spawn(PY as string, [join(ROOT, 'test/fixtures/pymodbus/registers_server.py'), String(port), JSON.stringify(winter.registers)], { stdio: ['ignore', 'pipe', 'pipe'] });
    stops.push(() => killAndWait(server, 'SIGTERM'));
    await new Promise<string>((resolve, reject) => {
      createInterface({ input: server.stdout }).once('line', resolve);
      server.once('exit', (code) => reject(new Error(`pymodbus exited ${code}`)));
    });
    const cfg = join(tmp.dir, 'gateway.yaml');
    const text = readFileSync(cfg, 'utf8');
    expect(text).toContain('host: 192.168.1.50, port: 502');
    writeFileSync(cfg, text.replace('host: 192.168.1.50, port: 502', `host: 127.0.0.1, port: ${port}`).replace('api: { port: 8080 }', 'api: { port: 0 }'));
    const gw = await startGatewayProcess('gateway.yaml', {}, 30_000, tmp.dir);
    stops.push(async () => {
      if (gw.proc.exitCode === null) {
        gw.proc.kill('SIGTERM');
        await gw.exited;
      }
    });
    type Latest = { device: string; metric: string; value: unknown; quality: string; unit: string | null };
    const latest = await waitFor(async () => {
      const rows = (await (await fetch(`${gw.apiUrl}/api/latest?device=hm-b7`)).json()) as Latest[];
      return rows.length === winter.samples.length ? rows : undefined;
    }, 15_000);
    const got = latest.map((r) => ({ metric: r.metric, value: r.value, quality: r.quality })).sort((a, b) => a.metric.localeCompare(b.metric));
    const want = winter.samples.map((s) => ({ metric: s.metric, value: s.value, quality: s.quality ?? 'good' })).sort((a, b) => a.metric.localeCompare(b.metric));
    expect(got).toEqual(want);
    expect(latest.find((r) => r.metric === 'thermal_total')?.unit).toBe('Wh');
    gw.proc.kill('SIGTERM');
    expect(await gw.exited).toEqual({ code: 0, signal: null });
    // The store is where the guide's config puts it: in the integrator's directory.
    expect(existsSync(join(tmp.dir, 'data/fcgw.db'))).toBe(true);
  });

  it('wrote nothing into the package', () => {
    expect(packageStatus()).toBe(before);
  });
});
