import { execFile, execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/model/clock.js';
import { EnergyCommunity, EnergyGroup, energySchema } from '../../../simulators/energy/index.js';
import { modbusProfiles } from '../../../simulators/energy/index.js';
import { findPeer, freePort, IN_CI, waitFor } from '../../helpers/peers.js';
import { collect, connection, device, driverFor, valuesOf } from './harness.js';

/**
 * Interoperability with Modbus code nobody here wrote: mbpoll (a C master on libmodbus) reads the
 * energy simulators and, decoding by hand what the profile says (address, type, order, scale),
 * gets the values the models publish and the driver reads; the driver reads a SunSpec image
 * served by pymodbus from a Python fixture.
 */

const run = promisify(execFile);
let stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

const MBPOLL = findPeer('mbpoll');

/** Read `count` registers with mbpoll (PDU addressing); returns the numbers it printed. */
async function mbpoll(port: number, unit: number, type: string, ref: number, count = 1): Promise<number[]> {
  const { stdout } = await run(MBPOLL as string, ['-0', '-1', '-B', '-p', String(port), '-a', String(unit), '-t', type, '-r', String(ref), '-c', String(count), '-o', '1', '127.0.0.1']);
  return [...stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)].map((m) => Number(m[2]));
}
const int16 = (x: number) => (x << 16) >> 16;
const pow10 = (sf: number) => 10 ** int16(sf);
const fix = (x: number) => Number(x.toPrecision(15));

describe.skipIf(!MBPOLL)('mbpoll reads the energy simulators', () => {
  it('gets what the profiles say from SunSpec, heat pump, water meter and plain ESS units', async () => {
    const port = await freePort();
    const clock = new ManualClock(Date.parse('2024-06-21T12:00:00+08:00'));
    const s = energySchema.parse({
      load_kw: 120,
      endpoints: [
        {
          name: 'plant',
          framing: 'tcp',
          port,
          units: [
            { unit: 1, profile: 'sunspec', sunspec: { models: [103, 160, 203, 802], mppt: 2 }, devices: [{ id: 'pv', model: 'pv', kwp: 150 }, { id: 'grid', model: 'grid' }, { id: 'bat', model: 'battery' }] },
            { unit: 3, profile: 'heat-pump-xyzz', devices: [{ id: 'hp', model: 'heat_pump' }, { id: 'tank', model: 'tank' }] },
            { unit: 5, profile: 'plain-ess', devices: [{ id: 'ess', model: 'battery' }] },
            { unit: 11, profile: 'modbus-water-meter', devices: [{ id: 'wm', model: 'water', m3_per_day: 300 }] },
          ],
        },
      ],
    });
    const community = new EnergyCommunity(s, { start: clock.now() - 6 * 3_600_000, seed: 7, latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai' });
    community.advance(clock.now());
    const group = new EnergyGroup(s.endpoints[0]!, community, modbusProfiles(), clock, s.load_kw);
    await group.start();
    stops.push(() => group.stop());

    // The driver, through the profiles.
    const c = collect();
    const devs = [
      device('pv', 'pv_inverter', 'sunspec', 1, 300),
      device('grid', 'grid_meter', 'sunspec', 1, 300),
      device('bat', 'battery', 'sunspec', 1, 300),
      device('hp', 'heat_pump', 'heat-pump-xyzz', 3, 300),
      device('ess', 'battery', 'plain-ess', 5, 300),
      device('wm', 'water_meter', 'modbus-water-meter', 11, 300),
    ];
    const d = driverFor(connection(port, { timeout: 500 }), devs, c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => (d.health().counters?.['polls'] ?? 0) >= 2 * devs.length && d.health().devices.every((x) => x.state === 'online'), 5000);
    const drv = (id: string) => valuesOf(c.readings, id);
    const truth = (id: string) => community.values(id);

    // SunSpec: the marker, then model 103 at 40070 (after model 1, L 66), 160 at 40122 (L 48),
    // 203 at 40172, 802 at 40279.
    expect(await mbpoll(port, 1, '4:hex', 40000, 2)).toEqual([0x5375, 0x6e53]);
    expect(await mbpoll(port, 1, '4', 40070, 2)).toEqual([103, 50]);
    const [w, wsf] = (await mbpoll(port, 1, '4', 40084, 2)) as [number, number];
    const acPower = fix(int16(w) * pow10(wsf));
    const [wh] = (await mbpoll(port, 1, '4:int', 40094)) as [number];
    const [whSf] = (await mbpoll(port, 1, '4', 40096)) as [number];
    expect(acPower).toBeGreaterThan(10_000);
    expect(drv('pv')['ac_power']).toBe(acPower);
    expect(Math.abs(acPower - Number(truth('pv')['ac_power']))).toBeLessThanOrEqual(5 * pow10(wsf));
    expect(drv('pv')['energy_total']).toBe(fix((wh >>> 0) * pow10(whSf)));
    expect(Math.abs((wh >>> 0) * pow10(whSf) - Number(truth('pv')['energy_total']))).toBeLessThanOrEqual(pow10(whSf));

    const [mw] = (await mbpoll(port, 1, '4', 40190)) as [number];
    const [mwSf] = (await mbpoll(port, 1, '4', 40194)) as [number];
    const [imp] = (await mbpoll(port, 1, '4:int', 40218)) as [number];
    const [totSf] = (await mbpoll(port, 1, '4', 40226)) as [number];
    expect(drv('grid')['power']).toBe(fix(int16(mw) * pow10(mwSf)));
    expect(Math.abs(int16(mw) * pow10(mwSf) - Number(truth('grid')['power']))).toBeLessThanOrEqual(pow10(mwSf));
    expect(drv('grid')['import_total']).toBe(fix((imp >>> 0) * pow10(totSf)));

    const [soc] = (await mbpoll(port, 1, '4', 40290)) as [number];
    const [socSf] = (await mbpoll(port, 1, '4', 40335)) as [number];
    expect(drv('bat')['soc']).toBe(fix(soc * pow10(socSf)));
    expect(drv('bat')['soc']).toBe(truth('bat')['soc']);

    // Heat pump XYZZ: flow/return int16 × 0.01 °C at 1004/1005, electric/thermal int32 Wh at 1020/1022.
    const [flowT, returnT] = (await mbpoll(port, 3, '4', 1004, 2)) as [number, number];
    const [elec, heat] = (await mbpoll(port, 3, '4:int', 1020, 2)) as [number, number];
    expect(fix(int16(flowT) * 0.01)).toBe(truth('hp')['supply_temp']);
    expect(fix(int16(returnT) * 0.01)).toBe(truth('hp')['return_temp']);
    expect([elec, heat]).toEqual([truth('hp')['electric_total'], truth('hp')['thermal_total']]);
    expect(drv('hp')).toMatchObject({ supply_temp: truth('hp')['supply_temp'], electric_total: elec, thermal_total: heat });

    // Plain ESS: input registers, power int32 big-endian at 2, SoC × 0.1 % at 4.
    const [power] = (await mbpoll(port, 5, '3:int', 2)) as [number];
    const [essSoc] = (await mbpoll(port, 5, '3', 4)) as [number];
    expect(power).toBe(truth('ess')['power']);
    expect(fix(essSoc * 0.1)).toBe(truth('ess')['soc']);
    expect(drv('ess')).toMatchObject({ power, soc: fix(essSoc * 0.1) });

    // Water meter: float32 little-endian (DCBA). The register bytes in wire order are the
    // float's little-endian bytes.
    const [w0, w1, f0, f1] = (await mbpoll(port, 11, '4:hex', 1, 6).then((x) => [x[0], x[1], x[4], x[5]])) as [number, number, number, number];
    const le = (a: number, b: number) => Buffer.from([a >> 8, a & 0xff, b >> 8, b & 0xff]).readFloatLE(0);
    expect(le(w0, w1)).toBeCloseTo(Number(truth('wm')['volume_total']), 2);
    expect(drv('wm')['volume_total']).toBe(fix(le(w0, w1)));
    expect(drv('wm')['flow']).toBe(fix(le(f0, f1)));
    expect(le(f0, f1)).toBeGreaterThan(0);
  });
});

/** Debian's python3 with pymodbus (a pyenv python3 earlier on the PATH may not have it). */
function pymodbusPython(): string | undefined {
  const py = findPeer('python3 (with pymodbus)', ['/usr/bin/python3', 'python3']);
  if (!py) return undefined;
  try {
    execFileSync(py, ['-c', 'import pymodbus.server'], { stdio: 'ignore' });
    return py;
  } catch {
    const msg = `${py} has no pymodbus (apt-get install python3-pymodbus)`;
    if (IN_CI) throw new Error(msg);
    console.warn(`SKIPPED: ${msg}`);
    return undefined;
  }
}
const PY = pymodbusPython();
const FIXTURE = fileURLToPath(new URL('../../fixtures/pymodbus/sunspec_server.py', import.meta.url));

describe.skipIf(!PY)('the driver reads a SunSpec device served by pymodbus', () => {
  it('discovers the chain (model 1 with L = 65) and reads inverter and meter as the fixture says', async () => {
    const port = await freePort();
    const spec = (await fixture(FIXTURE, [String(port)])) as { expected: Record<string, Record<string, unknown>> };
    const c = collect();
    const d = driverFor(connection(port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'sunspec', 1, 300), device('meter', 'grid_meter', 'sunspec', 1, 300)], c.ctx);
    stops.push(() => d.stop());
    // The server may still be binding when it printed its line: the link reconnects by itself.
    await d.start();
    // On a loaded machine Python starts slowly and the link's reconnect backs off: 20 s, not 8.
    await waitFor(() => c.last('inv', 'energy_total') && c.last('meter', 'import_total'), 20_000);
    expect(valuesOf(c.readings, 'inv')).toEqual(spec.expected['pv_inverter']);
    expect(valuesOf(c.readings, 'meter')).toEqual(spec.expected['grid_meter']);
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
    expect(d.explain('inv').join('\n')).toContain('SunSpec at 40000: 1@40002 L=65, 103@40069 L=50, 203@40121 L=105');
  });
});

const RTU_FIXTURE = fileURLToPath(new URL('../../fixtures/pymodbus/rtu_server.py', import.meta.url));

/** Start a Python fixture and read the JSON line it prints first. */
async function fixture(script: string, args: string[]): Promise<Record<string, unknown>> {
  const child = spawn(PY as string, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  stops.push(() => {
    child.kill('SIGTERM');
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`${script} exited ${code}: ${stderr}`)));
  });
  return JSON.parse(first) as Record<string, unknown>;
}

describe.skipIf(!PY)('modbus-rtu on a serial line with pymodbus slaves', () => {
  it('reads two water meters (float32 DCBA, 9600 8N1) through a real serial port', async () => {
    const spec = (await fixture(RTU_FIXTURE, [])) as { port: string; expected: Record<string, Record<string, unknown>> };
    const c = collect();
    const conn = { id: 'line', protocol: 'modbus-rtu', path: spec.port, baud: 9600, parity: 'none', data_bits: 8, stop_bits: 1, timeout: 500, gap: 20, retries: 1, reconnect_min: 100, reconnect_max: 1000, quarantine_min: 500, quarantine_max: 2000 };
    const d = driverFor(conn as never, [device('wm-7', 'water_meter', 'modbus-water-meter', 7, 300), device('wm-9', 'water_meter', 'modbus-water-meter', 9, 300)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('wm-7', 'volume_total') && c.last('wm-9', 'volume_total'), 8000);
    expect(valuesOf(c.readings, 'wm-7')).toEqual(spec.expected['7']);
    expect(valuesOf(c.readings, 'wm-9')).toEqual(spec.expected['9']);
    expect(d.health()).toMatchObject({ protocol: 'modbus-rtu', state: 'connected' });
  });
});

