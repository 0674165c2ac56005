import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/peers.js';

const ROOT = join(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'bin/fcgw.js');
const FIXTURE = join(ROOT, 'test/fixtures/integrator');
const tmp = tempDir('fcgw-proftest-');
afterAll(() => tmp.cleanup());

/** `fcgw ARGS` as a real process, from `cwd`. */
function fcgw(args: string[], cwd = ROOT): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fcgw profile test', () => {
  it('runs a user profile file and its cases: readings and samples (catalog units, quality) green, exit 0', () => {
    const r = fcgw(['profile', 'test', join(FIXTURE, 'profiles/heat-meter-hm3.yaml'), join(FIXTURE, 'cases/heat-meter-hm3.yaml')]);
    expect(r.err).toBe('');
    expect(r.out).toContain('ok   winter day, 12.5 kW into the building');
    expect(r.out).toMatch(/heat-meter-hm3: 2 cases, 0 failed\n$/);
    expect(r.code).toBe(0);
  });

  it('a sample that is not what the pipeline stores fails with a readable diff, exit 1', () => {
    cpSync(FIXTURE, join(tmp.dir, 'wrong'), { recursive: true });
    const cases = join(tmp.dir, 'wrong/cases/heat-meter-hm3.yaml');
    // The integrator forgot that samples are in catalog units (Wh, not kWh).
    writeFileSync(cases, readFileSync(cases, 'utf8').replace('{ metric: thermal_total, value: 123456000 }', '{ metric: thermal_total, value: 123456 }'));
    const r = fcgw(['profile', 'test', join(tmp.dir, 'wrong/profiles/heat-meter-hm3.yaml'), cases]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(['FAIL winter day, 12.5 kW into the building', '       - metric=thermal_total value=123456 quality=good', '       + metric=thermal_total value=123456000 quality=good'].join('\n'));
    expect(r.out).toMatch(/2 cases, 1 failed\n$/);
  });

  it('a built-in profile by id with the repository\'s own golden file; a user profile through -c and profiles.dirs', () => {
    expect(fcgw(['profile', 'test', 'modbus-water-meter', 'test/golden/modbus/modbus-water-meter.yaml']).code).toBe(0);
    const dir = join(tmp.dir, 'site');
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'gateway.yaml'), 'version: 1\nsite: { id: t }\nprofiles: { dirs: [./profiles] }\n');
    const r = fcgw(['profile', 'test', '-c', 'gateway.yaml', 'heat-meter-hm3', 'cases/heat-meter-hm3.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 cases, 0 failed');
  });

  it('a profile with a problem says where (file and line), exit 2; cases for another profile are refused', () => {
    const dir = join(tmp.dir, 'broken');
    cpSync(FIXTURE, dir, { recursive: true });
    const pf = join(dir, 'profiles/heat-meter-hm3.yaml');
    writeFileSync(pf, readFileSync(pf, 'utf8').replace('scale: 0.1, unit: kW }', 'scale: 0.1, unit: Watt }'));
    const r = fcgw(['profile', 'test', pf, join(dir, 'cases/heat-meter-hm3.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${pf}: points[1].unit (line 15): unknown unit "Watt"`);
    const other = fcgw(['profile', 'test', 'modbus-water-meter', join(FIXTURE, 'cases/heat-meter-hm3.yaml')]);
    expect(other.code).toBe(2);
    expect(other.err).toContain('is for profile "heat-meter-hm3", not "modbus-water-meter"');
  });
});
