import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportError, runReport } from '../../../gateway/kpi/index.js';
import { ConfigError } from '../../../gateway/config/load.js';
import { tempDir } from '../../helpers/peers.js';
import { communityReadings, DEVICES, truth } from './community.js';
import { DAY, Fixture, HOUR, MARCH_1 } from './fixtures.js';

/** `fcgw report --kpi` over a real store file (read-only), in three formats, with its exit code. */

let fx: Fixture;
let dir: { dir: string; cleanup: () => void };
let configFile: string;
const now = MARCH_1 + 2 * DAY + HOUR;

function writeConfig(targets: string): string {
  const file = join(dir.dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `version: 1
site: { id: lianhua, timezone: Asia/Shanghai, residents: 200 }
store: { path: ${JSON.stringify(fx.path)} }
targets:
${targets}
`,
  );
  return file;
}

beforeAll(() => {
  fx = new Fixture(DEVICES);
  fx.write(communityReadings(MARCH_1 - HOUR, MARCH_1 + 2 * DAY + HOUR));
  dir = tempDir('fcgw-report-');
  configFile = writeConfig(`  - { kpi: self_sufficiency, window: day, min: 0.3 }
  - { kpi: water_loss_ratio, window: day, max: 0.10 }
  - { kpi: grid_import, window: day, max: 1.0e9, scope: { tag: building, value: a } }`);
});
afterAll(() => {
  fx.close();
  dir.cleanup();
});

describe('fcgw report --kpi', () => {
  it('json: every KPI of each day asked for, with targets judged; exit 0 when none is missed', () => {
    const res = runReport({ config: configFile, window: 'day', from: '2024-03-01T00:00:00+08:00', to: '2024-03-03T00:00:00+08:00', format: 'json', now });
    expect(res.exitCode).toBe(0);
    const lines = JSON.parse(res.text) as { start: string; kpi: string; scope: string; value: number; status: string; target: string }[];
    expect(new Set(lines.map((l) => l.start))).toEqual(new Set(['2024-03-01T00:00:00+08:00', '2024-03-02T00:00:00+08:00']));
    const ss = lines.find((l) => l.kpi === 'self_sufficiency' && l.start.startsWith('2024-03-01'));
    expect(ss).toMatchObject({ status: 'met', target: '≥ 0.3', scope: 'site' });
    expect(Math.abs((ss?.value ?? 0) - (truth(MARCH_1, MARCH_1 + DAY).self_sufficiency as number))).toBeLessThan(0.005);
    expect(lines.find((l) => l.kpi === 'grid_import' && l.scope === 'building=a')).toMatchObject({ status: 'met', target: '≤ 1000000000' });
  });

  it('table and csv; exit 1 when a target is missed', () => {
    const strict = writeConfig('  - { kpi: water_loss_ratio, window: day, max: 0.01 }');
    const table = runReport({ config: strict, from: '2024-03-01T12:00:00+08:00', now });
    expect(table.exitCode).toBe(1);
    const rows = table.text.split('\n');
    expect(rows[0]).toBe('lianhua: scene KPIs and targets (times in Asia/Shanghai)');
    expect(rows[2]).toBe('Day 2024-03-01 (closed)');
    expect(rows[3]).toMatch(/^ {2}KPI\s+what it measures\s+value\s+coverage\s+target\s+status\s+note$/);
    // In the units a property manager reads: %, kWh, minutes; the target in the same unit.
    expect(rows.find((r) => r.includes('water_loss_ratio'))).toMatch(/^ {2}water_loss_ratio\s+master minus sub-meters\s+5(\.\d)? %\s+100 %\s+≤ 1 %\s+MISSED$/);
    expect(rows.find((r) => r.includes('pv_generation'))).toMatch(/\s4\d\d kWh\s+100 %$/);
    expect(rows.filter((r) => /^Day /.test(r))).toEqual(['Day 2024-03-01 (closed)', 'Day 2024-03-02 (closed)', 'Day 2024-03-03 (in progress, measured to 2024-03-03 01:00)']);
    // From noon on the 1st to now (01:00 on the 3rd): the two closed days miss the strict target,
    // named; the day in progress is 1/24 through, too early to judge (a quarter must pass).
    expect(table.text).toContain('Targets: 0 met, 2 missed, 1 unknown.');
    const today = rows.slice(rows.indexOf('Day 2024-03-03 (in progress, measured to 2024-03-03 01:00)'));
    expect(today.find((r) => r.includes('water_loss_ratio'))).toMatch(/≤ 1 %\s+unknown: too early in the window$/);
    expect(table.text).toMatch(/MISSED water_loss_ratio, day from 2024-03-02T00:00:00\+08:00: 5(\.\d)? %, target ≤ 1 %/);
    const csv = runReport({ config: strict, from: '2024-03-01T12:00:00+08:00', format: 'csv', now });
    const [head, ...body] = csv.text.trim().split('\n');
    expect(head).toBe('window_start,kpi,scope,value,unit,coverage,target,status,open');
    expect(body.find((l) => l.includes(',water_loss_ratio,'))).toMatch(/,missed,$/);
    expect(csv.exitCode).toBe(1);
  });

  it('the real command: `fcgw report --kpi --window day` prints the table and exits 1 on a missed target', () => {
    const strict = writeConfig('  - { kpi: water_loss_ratio, window: day, max: 0.01 }');
    const args = ['bin/fcgw.js', 'report', '-c', strict, '--kpi', '--window', 'day', '--from', '2024-03-01T00:00:00+08:00', '--to', '2024-03-02T00:00:00+08:00'];
    const run = spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(run.stdout).toContain('Day 2024-03-01 (closed)');
    expect(run.stdout).toMatch(/water_loss_ratio\s+master minus sub-meters\s+5(\.\d)? %\s+100 %\s+≤ 1 %\s+MISSED/);
    expect(run.stdout).toContain('Targets: 0 met, 1 missed, 0 unknown.');
    expect(run.status).toBe(1);
  });

  it('month windows; bad arguments and a missing store are clear errors', () => {
    const month = runReport({ config: configFile, window: 'month', format: 'json', now });
    expect((JSON.parse(month.text) as { start: string }[])[0]?.start).toBe('2024-03-01T00:00:00+08:00');
    expect(() => runReport({ config: configFile, window: 'fortnight', now })).toThrow(ReportError);
    expect(() => runReport({ config: configFile, from: 'yesterday', now })).toThrow(/--from "yesterday" is not a time/);
    const nowhere = join(dir.dir, 'nowhere.yaml');
    writeFileSync(nowhere, `version: 1\nsite: { id: lianhua }\nstore: { path: ${JSON.stringify(join(dir.dir, 'missing.db'))} }\n`);
    expect(() => runReport({ config: nowhere, now })).toThrow(/no store at/);
    writeFileSync(nowhere, 'version: 1\nsite: { id: lianhua }\ntargets: [{ kpi: self_sufficency, window: day, min: 1 }]\n');
    expect(() => runReport({ config: nowhere, now })).toThrow(ConfigError);
    // From the command line these are exit 2, never 1 (which says a target was missed).
    const bad = spawnSync(process.execPath, ['bin/fcgw.js', 'report', '-c', configFile, '--kpi', '--window', 'fortnight'], { encoding: 'utf8' });
    expect(bad.stderr.trim()).toMatch(/^fcgw: --window must be one of .* not "fortnight"/);
    expect(bad.status).toBe(2);
  });
});
