import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/peers.js';

const BIN = join(import.meta.dirname, '../../../bin/fcgw.js');
const tmp = tempDir('fcgw-newprof-');
afterAll(() => tmp.cleanup());

function fcgw(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp.dir, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('fcgw new-profile', () => {
  it('scaffolds a Modbus profile and a green golden case from a register list (CSV); never overwrites', () => {
    writeFileSync(join(tmp.dir, 'hm.csv'), 'address,type,scale,unit,metric\n0,uint32,1,kWh,thermal_total\n2,int32,0.1,kW,thermal_power\n6,int16,0.01,°C,supply_temp\n');
    const r = fcgw(['new-profile', 'hm4', 'heat_meter', 'hm.csv']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const profile = parse(readFileSync(join(tmp.dir, 'profiles/hm4.yaml'), 'utf8')) as { points: unknown[] };
    expect(profile.points).toEqual([
      { metric: 'thermal_total', address: 0, type: 'uint32', unit: 'kWh', slow: true },
      { metric: 'thermal_power', address: 2, type: 'int32', scale: 0.1, unit: 'kW' },
      { metric: 'supply_temp', address: 6, type: 'int16', scale: 0.01, unit: '°C' },
    ]);
    const cases = parse(readFileSync(join(tmp.dir, 'cases/hm4.yaml'), 'utf8')) as { cases: { registers: unknown; samples: unknown[] }[] };
    expect(cases.cases[0]?.registers).toEqual({ holding: { 0: [0, 1], 2: [0, 1], 6: [1] } });
    // The samples are in catalog units: 1 kWh → 1000 Wh, 1 × 0.1 kW → 100 W.
    expect(cases.cases[0]?.samples).toEqual([
      { metric: 'supply_temp', value: 0.01, quality: 'good' },
      { metric: 'thermal_power', value: 100, quality: 'good' },
      { metric: 'thermal_total', value: 1000, quality: 'good' },
    ]);
    const t = fcgw(['profile', 'test', 'profiles/hm4.yaml', 'cases/hm4.yaml']);
    expect(t.out).toContain('hm4: 1 case, 0 failed');
    expect(t.code).toBe(0);
    const again = fcgw(['new-profile', 'hm4', 'heat_meter', 'hm.csv']);
    expect(again.code).toBe(2);
    expect(again.err).toContain('exists; not overwritten');
  });

  it('refuses a register list with a wrong type or a metric the class lacks, by line', () => {
    writeFileSync(join(tmp.dir, 'bad.csv'), '# HM9\naddress,type,scale,unit,metric\n0,uint31,1,kWh,thermal_total\n2,int32,0.1,kW,thermal_pwr\n');
    const r = fcgw(['new-profile', 'hm9', 'heat_meter', 'bad.csv']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('bad.csv: line 3: type "uint31" is not one of');
    expect(r.err).toContain('bad.csv: line 4: "thermal_pwr" is not a metric of heat_meter');
    expect(existsSync(join(tmp.dir, 'profiles/hm9.yaml'))).toBe(false);
  });

  it('scaffolds an MQTT profile from one sample payload: fields named like metrics become readings, the others are listed', () => {
    writeFileSync(join(tmp.dir, 'wm.json'), JSON.stringify({ volume_total: 12.5, leak: false, status: { battery_mv: 3600 } }));
    const r = fcgw(['new-profile', 'wm5', 'water_meter', 'wm.json']);
    expect(r.code).toBe(0);
    const text = readFileSync(join(tmp.dir, 'profiles/wm5.yaml'), 'utf8');
    expect(text).toContain('# Not mapped (no catalog metric of that name): status.battery_mv');
    expect((parse(text) as { readings: unknown[] }).readings).toEqual([
      { metric: 'volume_total', path: 'volume_total', unit: 'm³' },
      { metric: 'leak', path: 'leak' },
    ]);
    expect(fcgw(['profile', 'test', 'profiles/wm5.yaml', 'cases/wm5.yaml']).code).toBe(0);
  });
});
