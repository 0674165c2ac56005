import { afterEach, describe, expect, it } from 'vitest';
import { freePort, waitFor } from '../../helpers/peers.js';
import { pymodbusPython, serveSunSpecImage, type ImageUnit } from '../../helpers/sunspec-image.js';
import { collect, connection, device, driverFor, valuesOf } from './harness.js';

/**
 * The SunSpec profile against device images that pymodbus serves, built from the SunSpec
 * Alliance's model definitions by Python (test/fixtures/pymodbus/sunspec_image.py), with values
 * this test chooses: every value the profile reads must be the value the image holds. Points the
 * image leaves out hold the definition's not-implemented value, as on a real device.
 */

const PY = pymodbusPython();
let stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

const common = (length?: number) => ({ id: 1, ...(length ? { length } : {}), values: { Mn: 'Fixture', Md: 'Image', SN: 'PYM-42' } });

/** A Fronius GEN24 as it serves SunSpec by default (float), and its smart meter on unit 200. */
const FRONIUS: Record<number, ImageUnit> = {
  1: {
    models: [
      common(65),
      { id: 113, values: { W: 3456.5, WH: 12345678, DCW: 4100, St: 4, Hz: 50, TmpCab: 41.5 } },
      { id: 120, values: { DERTyp: 4, WRtg: 1000, WRtg_SF: 1 } },
      { id: 121 },
      { id: 122 },
      { id: 123 },
      { id: 124, values: { WChaMax: 5000, WChaMax_SF: 0, ChaState: 640, ChaState_SF: -1, ChaSt: 3 } },
      {
        id: 160,
        values: { DCW_SF: 0, DCWH_SF: 0 },
        blocks: [
          { ID: 1, IDStr: 'String 1', DCW: 1500 },
          { ID: 2, IDStr: 'String 2', DCW: 1300 },
          { ID: 3, IDStr: 'StCha 3', DCW: 0 },
          { ID: 4, IDStr: 'StDisCha 4', DCW: 2200 },
        ],
      },
    ],
  },
  200: { models: [common(65), { id: 213, values: { W: -812.25, Hz: 50, TotWhExp: 4321000, TotWhImp: 9876000 } }] },
};

/** An integer + scale factor inverter that also serves the DER models, with its battery. */
const DER: Record<number, ImageUnit> = {
  1: {
    models: [
      common(),
      { id: 103, values: { W: 999, W_SF: 0, WH: 1234, WH_SF: 0, DCW: 777, DCW_SF: 0, St: 4 } },
      { id: 701, values: { InvSt: 3, W: 500, W_SF: 1, TotWhInj: 98765432, TotWhAbs: 1000, TotWh_SF: 0 } },
      { id: 702, values: { WMaxRtg: 800, W_SF: 1 } },
      { id: 713, values: { WHRtg: 1000, WHAvail: 900, SoC: 815, SoH: 990, WH_SF: 1, Pct_SF: -1 } },
      {
        id: 714,
        values: { NPrt: 2, DCW: 4200, DCW_SF: 0 },
        blocks: [
          { PrtTyp: 0, ID: 1, DCW: 3800 },
          { PrtTyp: 1, ID: 2, DCW: 400 },
        ],
      },
      { id: 802, values: { WHRtg: 1300, WHRtg_SF: 1, SoC: 456, SoC_SF: -1, SoH: 1000, SoH_SF: -1, ChaSt: 3, W: -500, W_SF: 0 } },
    ],
  },
};

describe.skipIf(!PY)('SunSpec images from the model definitions, served by pymodbus', () => {
  it('float layout (Fronius): inverter 113, nameplate 120, storage 124, MPPT 160 without the battery modules, meter 213 on unit 200', async () => {
    const img = await serveSunSpecImage(PY as string, await freePort(), FRONIUS);
    stops.push(() => img.stop());
    const c = collect();
    const d = driverFor(connection(img.port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'sunspec', 1, 200), device('bat', 'battery', 'sunspec', 1, 200), device('meter', 'grid_meter', 'sunspec', 200, 200)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('inv', 'energy_total') && c.last('meter', 'import_total') && c.last('bat', 'soc'), 8000);
    expect(valuesOf(c.readings, 'inv')).toEqual({ ac_power: 3456.5, energy_total: 12345678, dc_power: 2800, state: 'mppt', rated_power: 10000 });
    expect(valuesOf(c.readings, 'bat')).toEqual({ soc: 64, state: 'discharging', rated_power: 5000 });
    expect(valuesOf(c.readings, 'meter')).toEqual({ power: -812.25, export_total: 4321000, import_total: 9876000 });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
    expect(d.explain('inv').join('\n')).toContain('SunSpec at 40000: 1@40002 L=65, 113@40069 L=60, 120@40131 L=26');
    // Nameplate data: once per connection, not every poll.
    await waitFor(() => c.readings.filter((r) => r.device === 'inv' && r.metric === 'ac_power').length >= 3, 5000);
    expect(c.readings.filter((r) => r.device === 'inv' && r.metric === 'rated_power')).toHaveLength(1);
  });

  it('float NaN and a GEN24 battery channel read as what they are', async () => {
    const units = structuredClone(FRONIUS);
    const inv = units[1]?.models[1];
    if (inv?.values) inv.values['W'] = null; // not implemented: NaN
    const img = await serveSunSpecImage(PY as string, await freePort(), units);
    stops.push(() => img.stop());
    const c = collect();
    const d = driverFor(connection(img.port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'sunspec', 1, 200)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('inv', 'energy_total'), 8000);
    expect(c.last('inv', 'ac_power')).toMatchObject({ value: null, quality: 'bad', reason: 'not_implemented' });
    // The battery discharging on module 4 changes nothing in PV DC power.
    await img.set(1, 160, 'DCW', 3300, 3);
    await img.set(1, 160, 'DCW', 1600, 0);
    await waitFor(() => c.last('inv', 'dc_power')?.value === 2900, 5000);
  });

  it('integer image with DER models: 701 over 103, PV ports of 714, 702 nameplate, 802 over 713', async () => {
    const img = await serveSunSpecImage(PY as string, await freePort(), DER);
    stops.push(() => img.stop());
    const c = collect();
    const d = driverFor(connection(img.port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'sunspec', 1, 200), device('bat', 'battery', 'sunspec', 1, 200)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('inv', 'energy_total') && c.last('bat', 'soc'), 8000);
    const inv = valuesOf(c.readings, 'inv');
    expect({ ...inv, energy_total: Number(inv['energy_total']) }).toEqual({ ac_power: 5000, energy_total: 98765432, dc_power: 3800, state: 'mppt', rated_power: 8000 });
    expect(valuesOf(c.readings, 'bat')).toEqual({ capacity: 13000, soc: 45.6, soh: 100, state: 'discharging', power: -500 });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
    // The models not preferred are not read at all.
    const explain = d.explain('inv').join('\n');
    expect(explain).not.toMatch(/40084|40101/); // 103's W and DCW
  });

  it('quirks: SunSpec on unit 126 (SMA), models padded beyond their definition, no end marker', async () => {
    const img = await serveSunSpecImage(PY as string, await freePort(), {
      126: {
        end: false,
        models: [
          common(),
          { id: 103, pad: 4, values: { W: 2345, W_SF: 1, WH: 7654321, WH_SF: 0, DCW: 2400, DCW_SF: 1, St: 5 } },
          { id: 160, values: { DCW_SF: 0 }, blocks: [{ ID: 1, IDStr: 'A', DCW: 11_000 }, { ID: 2, IDStr: 'B', DCW: 12_500 }] },
          { id: 203, pad: 2, values: { W: 150, W_SF: 1, TotWhExp: 1234, TotWhImp: 5678, TotWh_SF: 2 } },
        ],
      },
    });
    stops.push(() => img.stop());
    // The image as pymodbus laid it out: 103 has L = 50 + 4, 203 has L = 105 + 2, nothing after 203.
    const layout = img.units['126'] ?? [];
    expect(layout.map((m) => [m.id, m.length])).toEqual([[1, 66], [103, 54], [160, 48], [203, 107]]);
    const c = collect();
    const d = driverFor(connection(img.port, { timeout: 1000 }), [device('inv', 'pv_inverter', 'sunspec', 126, 200), device('meter', 'grid_meter', 'sunspec', 126, 200)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('inv', 'energy_total') && c.last('meter', 'import_total'), 8000);
    expect(valuesOf(c.readings, 'inv')).toEqual({ ac_power: 23450, energy_total: 7654321, dc_power: 23500, state: 'throttled' });
    expect(valuesOf(c.readings, 'meter')).toEqual({ power: 1500, export_total: 123400, import_total: 567800 });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
    expect(d.explain('inv').join('\n')).toContain('SunSpec at 40000: 1@40002 L=66, 103@40070 L=54, 160@40126 L=48, 203@40176 L=107');
  });

  it('nameplate data is read once per connection: again after the link came back', async () => {
    const port = await freePort();
    let img = await serveSunSpecImage(PY as string, port, FRONIUS);
    stops.push(() => img.stop());
    const c = collect();
    const d = driverFor(connection(port, { timeout: 500, reconnect_min: 100, reconnect_max: 200 }), [device('inv', 'pv_inverter', 'sunspec', 1, 100)], c.ctx);
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.readings.filter((r) => r.device === 'inv' && r.metric === 'ac_power').length >= 3, 8000);
    const rated = () => c.readings.filter((r) => r.device === 'inv' && r.metric === 'rated_power').map((r) => r.value);
    expect(rated()).toEqual([10000]);
    // The inverter is swapped for a bigger one while the link is down.
    await img.stop();
    const bigger = structuredClone(FRONIUS);
    const nameplate = bigger[1]?.models.find((m) => m.id === 120);
    if (nameplate?.values) nameplate.values['WRtg'] = 1500;
    await waitFor(() => d.health().state !== 'connected', 5000);
    img = await serveSunSpecImage(PY as string, port, bigger);
    await waitFor(() => rated().length >= 2, 10_000);
    expect(rated()).toEqual([10000, 15000]);
  }, 20_000);
});
