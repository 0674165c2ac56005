import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../helpers/peers.js';
import { pymodbusPython } from '../../helpers/sunspec-image.js';
import { collect, connection, device, driverFor, valuesOf } from './harness.js';

/**
 * The Huawei SUN2000 and Sungrow SG profiles against images pymodbus serves, built by Python
 * from the vendors' register tables (test/fixtures/pymodbus/vendor_image.py: addresses, types,
 * gains and word order as the vendors' documents give them) with values this test chooses.
 */

const PY = pymodbusPython();
const FIXTURE = fileURLToPath(new URL('../../fixtures/pymodbus/vendor_image.py', import.meta.url));
let stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

async function serve(vendor: 'huawei' | 'sungrow', values: Record<string, number>): Promise<number> {
  const port = await freePort();
  const child = spawn(PY as string, [FIXTURE, String(port), vendor, JSON.stringify(values)], { stdio: ['ignore', 'pipe', 'pipe'] });
  stops.push(() => {
    child.kill('SIGTERM');
  });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`vendor_image.py exited ${code}: ${stderr}`)));
  });
  return port;
}

describe.skipIf(!PY)('Chinese inverters from their vendors register tables, served by pymodbus', () => {
  it('Huawei SUN2000 with its meter and LUNA2000 battery (holding registers, gains, unmapped holes refused)', async () => {
    const port = await serve('huawei', {
      rated_power_kw: 10,
      input_power_kw: 8.523,
      active_power_kw: 8.11,
      device_status: 0x0201,
      accumulated_yield_kwh: 12345.67,
      meter_active_power_w: -1500,
      meter_positive_active_energy_kwh: 3456.78,
      meter_reverse_active_energy_kwh: 9876.54,
      battery_rated_capacity_wh: 10000,
      battery_soc_pct: 75.6,
      battery_power_w: 2500,
      battery_total_charge_kwh: 1234.56,
      battery_total_discharge_kwh: 1111.11,
    });
    const c = collect();
    const d = driverFor(connection(port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'huawei-sun2000', 1, 200), device('meter', 'grid_meter', 'huawei-sun2000', 1, 200), device('bat', 'battery', 'huawei-sun2000', 1, 200)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('inv', 'energy_total') && c.last('meter', 'import_total') && c.last('bat', 'discharged_total') && c.last('inv', 'state'), 8000);
    expect(valuesOf(c.readings, 'inv')).toEqual({ rated_power: 10000, dc_power: 8523, ac_power: 8110, state: 'throttled', energy_total: 12345.67 });
    // Huawei counts feed-in as positive; the catalog counts import as positive.
    expect(valuesOf(c.readings, 'meter')).toEqual({ power: 1500, export_total: 3456.78, import_total: 9876.54 });
    expect(valuesOf(c.readings, 'bat')).toEqual({ capacity: 10000, soc: 75.6, power: 2500, charged_total: 1234.56, discharged_total: 1111.11 });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
  });

  it('Sungrow SG (input registers numbered from 1, 32-bit low word first)', async () => {
    const port = await serve('sungrow', { nominal_active_power_kw: 10, total_dc_power_w: 6543, total_active_power_w: 6210, work_state: 0x8200, total_power_yields_kwh: 12345.6 });
    const c = collect();
    const d = driverFor(connection(port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'sungrow-sg', 1, 200)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('inv', 'energy_total'), 8000);
    expect(valuesOf(c.readings, 'inv')).toEqual({ rated_power: 10, dc_power: 6543, ac_power: 6210, state: 'throttled', energy_total: 12345.6 });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
  });
});
