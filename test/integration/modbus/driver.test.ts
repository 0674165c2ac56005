import { afterEach, describe, expect, it } from 'vitest';
import { UnitImage } from '../../../simulators/servers/modbus-image.js';
import { ModbusRtuTcpSimServer } from '../../../simulators/servers/modbus-rtu-tcp.js';
import { ModbusTcpSimServer } from '../../../simulators/servers/modbus-tcp.js';
import { SimUnits } from '../../../simulators/servers/modbus-units.js';
import type { ModbusDriver } from '../../../drivers/modbus/driver.js';
import pino from 'pino';
import { Link, PRIORITY } from '../../../drivers/modbus/link.js';
import { freePort, waitFor } from '../../helpers/peers.js';
import { collect, connection, device, driverFor, modbusProfile, valuesOf } from './harness.js';

const HP = { outdoor_temp: 4.5, mode: 'heating', supply_temp: 45.23, return_temp: 39.87, thermal_power: 8120, electric_power: 2450, electric_total: 1_234_567, thermal_total: 4_567_890, dhw_temp: 51.2, sg_ready: 'normal' };
const TANK = { top_temp: 48.5, bottom_temp: 41.5 };
const WATER = { volume_total: 1234.5, reverse_total: 0.25, flow: 1.75, dry: false, low_battery: false };

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

async function tcpServer(units: SimUnits): Promise<number> {
  const port = await freePort();
  const s = new ModbusTcpSimServer(units, { port });
  await s.start();
  stops.push(() => s.stop());
  return port;
}

function started(d: ModbusDriver): ModbusDriver {
  stops.push(() => d.stop());
  return d;
}

describe('modbus driver over real servers', () => {
  it('reads a heat pump and its tank (two devices, one unit) over Modbus TCP', async () => {
    const units = new SimUnits();
    units.add(3, { image: new UnitImage(modbusProfile('heat-pump-xyzz'), [{ cls: 'heat_pump', values: () => HP }, { cls: 'thermal_storage', values: () => TANK }]) });
    const port = await tcpServer(units);
    const c = collect();
    const d = started(
      driverFor(connection(port), [device('hp-1', 'heat_pump', 'heat-pump-xyzz', 3, 300), device('tank-1', 'thermal_storage', 'heat-pump-xyzz', 3, 300, { volume_m3: 2 })], c.ctx),
    );
    await d.start();
    await waitFor(() => c.last('tank-1', 'stored_energy') && c.last('hp-1', 'sg_ready'), 5000);
    expect(valuesOf(c.readings, 'hp-1')).toEqual(HP);
    // 1.163 kWh/(m³·K) × 2 m³ × (45 − 25) K
    expect(valuesOf(c.readings, 'tank-1')).toEqual({ ...TANK, stored_energy: 46520 });
    expect(c.last('hp-1', 'supply_temp')).toMatchObject({ unit: '°C' });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
    expect(d.health()).toMatchObject({ state: 'connected', devices: [{ id: 'hp-1', state: 'online' }, { id: 'tank-1', state: 'online' }] });
    // Fast telemetry and slow counters are separate reads; FC3 and FC4 never mix.
    expect(d.explain('hp-1').slice(2)).toEqual([
      '  FC3 holding 2..2 (1 registers): outdoor_temp',
      '  FC3 holding 1003..1012 (10 registers): mode, supply_temp, return_temp, thermal_power, electric_power',
      '  FC3 holding 2002..2002 (1 registers): dhw_temp',
      '  FC4 input 5000..5000 (1 registers): sg_ready',
      '  FC3 holding 1020..1023 (4 registers) [slow]: electric_total, thermal_total',
    ]);
    expect(d.explain('tank-1')).toContain('  FC3 holding 3002..3003 (2 registers): top_temp, bottom_temp');
  });

  it('reads water meters (float32 DCBA) over RTU-over-TCP with several unit ids', async () => {
    const units = new SimUnits();
    for (const u of [1, 2, 7]) units.add(u, { image: new UnitImage(modbusProfile('modbus-water-meter'), [{ cls: 'water_meter', values: () => ({ ...WATER, volume_total: 1000 * u + 0.5 }) }]) });
    const port = await freePort();
    const s = new ModbusRtuTcpSimServer(units, { port });
    await s.start();
    stops.push(() => s.stop());
    const c = collect();
    const devs = [1, 2, 7].map((u) => device(`wm-${u}`, 'water_meter', 'modbus-water-meter', u, 200));
    const d = started(driverFor(connection(port, { protocol: 'modbus-rtu-over-tcp', gap: 5 } as never), devs, c.ctx));
    await d.start();
    await waitFor(() => [1, 2, 7].every((u) => c.last(`wm-${u}`, 'low_battery')), 5000);
    for (const u of [1, 2, 7]) expect(valuesOf(c.readings, `wm-${u}`)).toEqual({ ...WATER, volume_total: 1000 * u + 0.5 });
  });

  it('survives a dropped connection and resumes polling', async () => {
    const units = new SimUnits();
    units.add(1, { image: new UnitImage(modbusProfile('plain-ess'), [{ cls: 'battery', values: () => ({ state: 'charging', power: 3000, soc: 55.5, soh: 98, capacity: 50000, charged_total: 100, discharged_total: 90 }) }]) });
    const port = await freePort();
    const s = new ModbusTcpSimServer(units, { port });
    await s.start();
    stops.push(() => s.stop());
    const c = collect();
    const d = started(driverFor(connection(port), [device('ess', 'battery', 'plain-ess', 1, 100)], c.ctx));
    await d.start();
    await waitFor(() => c.last('ess', 'soc'), 3000);
    units.setFault(1, { disconnect: true, times: 1 });
    await waitFor(() => (d.health().counters?.['disconnects'] ?? 0) >= 1, 3000);
    const n = c.readings.length;
    await waitFor(() => c.readings.length > n + 10 && d.health().state === 'connected', 5000);
    expect(c.last('ess', 'power')).toMatchObject({ value: 3000, unit: 'W' });
  });

  it('writes through the profile\'s word order (float32 DCBA) and the value reads back', async () => {
    const units = new SimUnits();
    const image = new UnitImage(modbusProfile('modbus-water-meter'), [{ cls: 'water_meter', values: () => ({}) }]);
    image.poke('holding', 1, [0, 0, 0, 0, 0, 0, 0xaa]);
    units.add(5, { image });
    const port = await tcpServer(units);
    const c = collect();
    const d = started(driverFor(connection(port), [device('wm', 'water_meter', 'modbus-water-meter', 5, 200)], c.ctx));
    await d.start();
    await waitFor(() => d.health().devices[0]?.state === 'online', 3000);
    await d.write('wm', 'volume_total', 1234.5);
    // The words Python's struct.pack('<f', 1234.5) gives, as big-endian registers.
    expect(image.read('holding', 1, 2)).toEqual([0x0050, 0x9a44]);
    await waitFor(() => c.last('wm', 'volume_total')?.value === 1234.5, 3000);
    await expect(d.write('wm', 'dry', true)).rejects.toMatchObject({ code: 'MODBUS_WRITE_INVALID' });
  });

  it('sends one request at a time: writes before fast telemetry before slow counters', async () => {
    const units = new SimUnits();
    units.add(1, { image: new UnitImage(modbusProfile('plain-ess'), [{ cls: 'battery', values: () => ({ state: 'holding', power: 0, soc: 50, soh: 99, capacity: 1, charged_total: 1, discharged_total: 1 }) }]) });
    units.setFault(1, { slow: 30 });
    const port = await tcpServer(units);
    const link = new Link(connection(port), pino({ level: 'silent' }));
    stops.push(() => link.stop());
    await link.start();
    const order: string[] = [];
    let inFlight = 0;
    let most = 0;
    const job = (name: string, prio: (typeof PRIORITY)[keyof typeof PRIORITY]) =>
      link.submit(prio, async (t) => {
        most = Math.max(most, ++inFlight);
        try {
          return await t.read(1, 'input', 0, 2);
        } finally {
          inFlight--;
          order.push(name);
        }
      });
    // The first (slow) request occupies the link; the others queue and leave by priority.
    await Promise.all([job('slow-1', PRIORITY.slow), job('slow-2', PRIORITY.slow), job('fast-1', PRIORITY.fast), job('write', PRIORITY.write), job('fast-2', PRIORITY.fast)]);
    expect(order).toEqual(['slow-1', 'write', 'fast-1', 'fast-2', 'slow-2']);
    expect(most).toBe(1);
  });

  it('keeps retrying with backoff while the peer is gone, and polls again once it is back', async () => {
    const units = new SimUnits();
    units.add(1, { image: new UnitImage(modbusProfile('plain-ess'), [{ cls: 'battery', values: () => ({ state: 'charging', power: 1000, soc: 40, soh: 99, capacity: 1, charged_total: 1, discharged_total: 1 }) }]) });
    const port = await freePort();
    const c = collect();
    // Nobody listens yet: start() resolves anyway, the link backs off and tries again.
    const d = started(driverFor(connection(port), [device('ess', 'battery', 'plain-ess', 1, 100)], c.ctx));
    await d.start();
    expect(d.health().state).toBe('backoff');
    const s = new ModbusTcpSimServer(units, { port });
    await new Promise((r) => setTimeout(r, 300));
    await s.start();
    await waitFor(() => c.last('ess', 'soc'), 3000);
    // The peer dies (server gone, sockets closed) and comes back on the same port.
    await s.stop();
    await waitFor(() => d.health().state !== 'connected', 2000);
    const n = c.readings.length;
    await s.start();
    stops.push(() => s.stop());
    await waitFor(() => c.readings.length > n && d.health().state === 'connected', 4000);
    expect(d.health().counters?.['reconnects']).toBeGreaterThanOrEqual(2);
    expect(d.health().devices[0]?.state).toBe('online');
  });
});

