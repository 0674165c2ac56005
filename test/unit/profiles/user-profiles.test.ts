import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../drivers/index.js';
import { mergeProfile } from '../../../gateway/site/extend-profile.js';
import { loadProfiles, PROFILE_DIR } from '../../../gateway/site/profiles.js';
import type { ModbusProfile } from '../../../drivers/modbus/profile-schema.js';
import type { Loaded } from '../../../drivers/profiles/schema.js';
import { formatProblem } from '../../../gateway/config/load.js';
import { loadSite } from '../../../gateway/site/index.js';
import { tempDir } from '../../helpers/peers.js';

const tmp = tempDir('fcgw-userprof-');
afterAll(() => tmp.cleanup());

/** A directory of user profiles beside a config that names them (`profiles: { dirs: [./profiles] }`). */
function site(name: string, profiles: Record<string, string>, devices: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(join(dir, 'profiles'), { recursive: true });
  for (const [file, text] of Object.entries(profiles)) writeFileSync(join(dir, 'profiles', file), text);
  const config = join(dir, 'gateway.yaml');
  writeFileSync(
    config,
    `version: 1
site: { id: t }
profiles: { dirs: [./profiles] }
connections:
  - { id: rs485, protocol: modbus-tcp, host: 127.0.0.1, port: 1502 }
devices:
${devices}`,
  );
  return config;
}

const problemsOf = (file: string) => {
  const r = loadSite(file, { env: {} });
  return r.ok ? [] : r.problems.map(formatProblem);
};

describe('profiles outside the package (profiles.dirs)', () => {
  it('a user profile extends a built-in one: a point replaced by metric, one appended, one removed, the rest inherited', () => {
    const file = site(
      'extends',
      {
        'my-water-meter.yaml': `id: my-water-meter
extends: modbus-water-meter
points:
  - { metric: flow, address: 5, type: float32, unit: 'L/h' }        # same metric: replaces
  - { metric: leak, address: 30, type: uint16, bit: 0 }
  - { metric: low_battery, remove: true }
`,
      },
      '  - { id: wm1, class: water_meter, connection: rs485, profile: my-water-meter, unit: 3 }',
    );
    const r = loadSite(file, { env: {} });
    expect(r.ok ? [] : r.problems.map(formatProblem)).toEqual([]);
    if (!r.ok) return;
    const p = r.site.profiles.get('my-water-meter') as Loaded<ModbusProfile>;
    expect(p.file).toBe(join(tmp.dir, 'extends', 'profiles', 'my-water-meter.yaml'));
    expect(p.protocol).toBe('modbus');
    expect(p.description).toBe('Modbus RTU ultrasonic water meter, float32 DCBA (extended)');
    expect(p.defaults.order).toBe('DCBA'); // inherited
    expect(p.points.map((q) => `${q.metric}@${q.address}:${q.unit ?? ''}`)).toEqual(['volume_total@1:m³', 'reverse_total@3:m³', 'flow@5:L/h', 'dry@7:', 'leak@30:']);
    // The built-in one is untouched.
    expect((r.site.profiles.get('modbus-water-meter') as Loaded<ModbusProfile>).points.map((q) => q.metric)).toContain('low_battery');
    expect(r.warnings).toBeUndefined();
  });

  it('a user profile named like a built-in one wins, with a warning naming both files; it may extend the one it replaces', () => {
    const file = site(
      'override',
      { 'modbus-water-meter.yaml': `id: modbus-water-meter\nextends: modbus-water-meter\nlimits: { max_registers: 8 }\n` },
      '  - { id: wm1, class: water_meter, connection: rs485, profile: modbus-water-meter, unit: 3 }',
    );
    const r = loadSite(file, { env: {} });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const p = r.site.profiles.get('modbus-water-meter') as Loaded<ModbusProfile>;
    expect(p.limits.max_registers).toBe(8);
    expect(p.limits.max_gap).toBe(20); // the built-in's, merged key by key
    expect(r.warnings?.map(formatProblem)).toEqual([
      `${join(tmp.dir, 'override', 'profiles', 'modbus-water-meter.yaml')}: id (line 1): profile "modbus-water-meter" replaces the one in ${join(PROFILE_DIR, 'modbus-water-meter.yaml')}`,
    ]);
  });

  it('check-config finds a user profile problem with its file and line, as for a built-in one', () => {
    const file = site(
      'bad',
      {
        'heat-meter-x.yaml': `id: heat-meter-x
description: a heat meter
classes: [heat_meter]
protocol: modbus
points:
  - { metric: thermal_total, address: 0, type: uint32, unit: kWh }
  - { metric: thermal_power, address: 2, type: uint16, unit: Watt }
  - { metric: suply_temp, address: 3, type: int16, scale: 0.01, unit: '°C' }
`,
      },
      '  - { id: hm1, class: heat_meter, connection: rs485, profile: heat-meter-x, unit: 1 }',
    );
    const pf = join(tmp.dir, 'bad', 'profiles', 'heat-meter-x.yaml');
    const got = problemsOf(file);
    expect(got.some((l) => l.startsWith(`${pf}: points[1].unit (line 7): `) && l.includes('Watt'))).toBe(true);
    expect(got.some((l) => l.startsWith(`${pf}: points[2].metric (line 8): `) && l.includes('supply_temp'))).toBe(true);
  });

  it('refuses an unknown base (with a did-you-mean), a cycle, and a problem inherited through extends at the extends line', () => {
    const file = site(
      'extends-bad',
      {
        'a.yaml': 'id: a\nextends: modbus-water-metr\n',
        'b.yaml': 'id: b\nextends: c\n',
        'c.yaml': 'id: c\nextends: b\n',
        'd.yaml': 'id: d\n\nextends: modbus-water-meter\nclasses: [heat_meter]\n',
      },
      ['a', 'b', 'c', 'd'].map((p) => `  - { id: x${p}, class: water_meter, connection: rs485, profile: ${p}, unit: 3 }`).join('\n'),
    );
    const got = problemsOf(file).join('\n');
    expect(got).toContain('a.yaml: extends (line 2): extends "modbus-water-metr": no such profile (did you mean "modbus-water-meter"?)');
    expect(got).toMatch(/[bc]\.yaml: extends \(line 2\): extends "[bc]" goes round in a circle/);
    // d serves heat_meter now, but its inherited points are water-meter metrics: said at the points' source line, which is its `extends:`.
    expect(got).toMatch(/d\.yaml: points\[0\]\.metric \(line 3\): "volume_total" is not a metric of heat_meter/);
  });

  it('merge rules: mappings by key, metric lists by metric (and class), other lists whole, null removes', () => {
    expect(mergeProfile({ a: { x: 1, y: 2 }, l: [1, 2], k: 1 }, { a: { y: 3 }, l: [3], k: null })).toEqual({ a: { x: 1, y: 3 }, l: [3] });
    expect(
      mergeProfile(
        [{ metric: 'm', class: 'a', v: 1 }, { metric: 'm', class: 'b', v: 2 }],
        [{ metric: 'm', class: 'b', v: 3 }],
      ),
    ).toEqual([{ metric: 'm', class: 'a', v: 1 }, { metric: 'm', class: 'b', v: 3 }]);
  });

  it('without profiles.dirs only the built-in profiles load, each once, with no warning', () => {
    const r = loadProfiles(DRIVERS);
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.profiles.size).toBeGreaterThan(15);
  });
});

describe('a profile directory that cannot be read', () => {
  it('is a warning naming it (a typo in profiles.dirs), not a silent nothing', () => {
    const file = join(tmp.dir, 'nodir.yaml');
    writeFileSync(file, 'version: 1\nsite: { id: t }\nprofiles: { dirs: [./profles] }\n');
    const r = loadSite(file, { env: {} });
    expect(r.ok).toBe(true);
    expect(r.warnings?.map(formatProblem)).toEqual([`${join(tmp.dir, 'profles')}: profiles.dirs: cannot read this profile directory: ENOENT`]);
  });
});
