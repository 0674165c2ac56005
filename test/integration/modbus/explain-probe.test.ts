import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/model/clock.js';
import { EnergyCommunity, EnergyGroup, energySchema, modbusProfiles } from '../../../simulators/energy/index.js';
import { freePort, tempDir } from '../../helpers/peers.js';

/**
 * `fcgw explain --probe`: the real command talks to a SunSpec unit (the energy simulator over
 * Modbus TCP) once, and prints the model chain it found and every read at its absolute address;
 * a unit that does not answer is said so, with exit 1.
 */
const BIN = join(import.meta.dirname, '../../../bin/fcgw.js');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [BIN, ...args], { encoding: 'utf8' }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );

describe('fcgw explain --probe', () => {
  const tmp = tempDir('fcgw-probe-');
  const file = join(tmp.dir, 'probe.yaml');
  let group: EnergyGroup;

  beforeAll(async () => {
    const port = await freePort();
    const clock = new ManualClock(Date.parse('2024-06-21T12:00:00+08:00'));
    const s = energySchema.parse({
      load_kw: 80,
      endpoints: [{ name: 'plant', framing: 'tcp', port, units: [{ unit: 1, profile: 'sunspec', sunspec: { models: [103, 203] }, devices: [{ id: 'pv', model: 'pv', kwp: 100 }, { id: 'grid', model: 'grid' }] }] }],
    });
    const community = new EnergyCommunity(s, { start: clock.now() - 3_600_000, seed: 3, latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai' });
    community.advance(clock.now());
    group = new EnergyGroup(s.endpoints[0]!, community, modbusProfiles(), clock, s.load_kw);
    await group.start();
    writeFileSync(
      file,
      `version: 1
site: { id: probe }
connections: [{ id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${port}, timeout: 300ms, retries: 0 }]
devices:
  - { id: pv, class: pv_inverter, connection: plant, profile: sunspec, unit: 1 }
  - { id: ghost, class: pv_inverter, connection: plant, profile: sunspec, unit: 9 }
`,
    );
  });
  afterAll(async () => {
    await group?.stop();
    tmp.cleanup();
  });

  it('without --probe: SunSpec reads as offsets, since only the device knows where its models are', async () => {
    const r = await run(['explain', '-c', file, 'pv']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('  SunSpec discovery at 40000, 0, 50000 (marker SunS); reads models');
    expect(r.stdout).toContain('offsets from its ID register:');
    expect(r.stdout).toContain('    FC3 holding 14..38 (25 registers): ac_power, energy_total, dc_power, state');
  });

  it('with --probe: the model chain found and every read at its absolute address', async () => {
    const r = await run(['explain', '-c', file, 'pv', '--probe']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('pv (pv_inverter) on plant [modbus-tcp], profile sunspec');
    // Model 1 (L 66) right after the marker at 40000, then 103 (L 50) and 203 (L 105).
    expect(lines).toContain('  SunSpec at 40000: 1@40002 L=66, 103@40070 L=50, 203@40122 L=105');
    // The plan's offsets (14..38 from model 103's ID register, as plain explain prints them), now absolute.
    expect(lines).toContain('  FC3 holding 40084..40108 (25 registers): ac_power, energy_total, dc_power, state');
    expect(lines.at(-1)).toMatch(/^probe: the device answered; \d+ values in the first poll \(\d+ ms\)$/);
  });

  it('with --probe, a unit that does not answer: said so, exit 1', async () => {
    const r = await run(['explain', '-c', file, 'ghost', '--probe']);
    expect(r.code).toBe(1);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^probe: no values within \d+ ms: link connected, device quarantined \(exception_11\)$/);
  });
});
