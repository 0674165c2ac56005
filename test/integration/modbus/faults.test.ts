import { afterEach, describe, expect, it } from 'vitest';
import type { DriverContext } from '../../../drivers/core/driver.js';
import type { ModbusDriver } from '../../../drivers/modbus/driver.js';
import { UnitImage } from '../../../simulators/servers/modbus-image.js';
import { ModbusTcpSimServer } from '../../../simulators/servers/modbus-tcp.js';
import { SimUnits } from '../../../simulators/servers/modbus-units.js';
import { freePort, waitFor } from '../../helpers/peers.js';
import { expectPollsBesideCommits, slowCommits } from '../../helpers/slow-store.js';
import { collect, connection, device, driverFor, modbusProfile, valuesOf } from './harness.js';

/**
 * The faults users of other gateways report most, against a real Modbus TCP server: one dead
 * device on a shared link, a busy device, a block with a hole in it, a failing device.
 */

const ESS = { state: 'charging', power: 3000, soc: 55.5, soh: 98, capacity: 50000, charged_total: 100, discharged_total: 90 };
const HP = { outdoor_temp: 4.5, mode: 'heating', supply_temp: 45.23, return_temp: 39.87, thermal_power: 8120, electric_power: 2450, electric_total: 1_234_567, thermal_total: 4_567_890, dhw_temp: 51.2, sg_ready: 'normal' };

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

async function serve(units: SimUnits): Promise<number> {
  const port = await freePort();
  const s = new ModbusTcpSimServer(units, { port });
  await s.start();
  stops.push(() => s.stop());
  return port;
}

function essUnits(n: number): SimUnits {
  const units = new SimUnits();
  for (let u = 1; u <= n; u++) units.add(u, { image: new UnitImage(modbusProfile('plain-ess'), [{ cls: 'battery', values: () => ({ ...ESS, soc: u }) }]) });
  return units;
}

/** Wall time (ms) of every poll that reached the pipeline, by device. */
function pollTimes(ctx: DriverContext): Map<string, number[]> {
  const times = new Map<string, number[]>();
  const ingest = ctx.ingest;
  ctx.ingest = async (batch) => {
    const dev = batch.readings?.[0]?.device;
    if (dev) times.set(dev, [...(times.get(dev) ?? []), performance.now()]);
    await ingest(batch);
  };
  return times;
}

function started(d: ModbusDriver): ModbusDriver {
  stops.push(() => d.stop());
  return d;
}

const stateOf = (d: ModbusDriver, id: string) => d.health().devices.find((x) => x.id === id)?.state;

describe('modbus faults on a shared link', () => {
  it('20 devices, one dead: the others keep their period within 10 %; the dead one is quarantined and comes back', async () => {
    const PERIOD = 500;
    const units = essUnits(20);
    units.setFault(20, { no_answer: true });
    const port = await serve(units);
    const c = collect();
    const times = pollTimes(c.ctx);
    const devs = Array.from({ length: 20 }, (_, i) => device(`ess-${i + 1}`, 'battery', 'plain-ess', i + 1, PERIOD));
    const d = started(driverFor(connection(port, { timeout: 150, retries: 0, quarantine_min: 400, quarantine_max: 1600 }), devs, c.ctx));
    const t0 = performance.now();
    await d.start();
    await new Promise((r) => setTimeout(r, 5000));

    for (let u = 1; u <= 19; u++) {
      const ts = (times.get(`ess-${u}`) ?? []).filter((t) => t > t0 + 1000);
      const gaps = ts.slice(1).map((t, i) => t - (ts[i] as number));
      const mean = ((ts.at(-1) as number) - (ts[0] as number)) / (ts.length - 1);
      expect(ts.length, `ess-${u} polls in 4 s`).toBeGreaterThanOrEqual(7);
      expect(Math.abs(mean - PERIOD) / PERIOD, `ess-${u} mean period ${mean.toFixed(1)} ms`).toBeLessThan(0.1);
      // No poll was skipped behind the dead device's timeouts.
      expect(Math.max(...gaps), `ess-${u} longest gap`).toBeLessThan(1.5 * PERIOD);
      expect(c.last(`ess-${u}`, 'soc')).toMatchObject({ value: u, unit: '%' });
    }
    expect(stateOf(d, 'ess-20')).toBe('quarantined');
    expect(d.health().devices.filter((x) => x.state === 'online')).toHaveLength(19);
    expect(c.errors.filter((e) => e.device === 'ess-20' && e.kind === 'timeout').length).toBeGreaterThanOrEqual(2);
    // Quarantine: a probe per backoff period (≤ 1.6 s), not a poll every 500 ms with retries.
    const asked = units.counters.unanswered;
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(asked).toBeLessThanOrEqual(8);
    expect(c.last('ess-20', 'soc')).toBeUndefined();

    units.setFault(20, undefined);
    await waitFor(() => stateOf(d, 'ess-20') === 'online' && c.last('ess-20', 'soc'), 4000);
    expect(c.last('ess-20', 'soc')).toMatchObject({ value: 20 });
  }, 15_000);

  it('a slow store does not slow the polls: the next poll goes out while the last one commits, two commits at most', async () => {
    const PERIOD = 100;
    const COMMIT_MS = 250;
    const port = await serve(essUnits(1));
    const c = collect();
    // Each commit takes 2.5 periods (a store gathering a busy turn's readings, or a slow disk).
    const store = slowCommits(c.ctx, COMMIT_MS);
    const d = started(driverFor(connection(port, { timeout: 1000 }), [device('ess-1', 'battery', 'plain-ess', 1, PERIOD)], c.ctx));
    await d.start();
    await expectPollsBesideCommits(store, PERIOD, d);
    expect(c.last('ess-1', 'soc')).toMatchObject({ value: 1, unit: '%' });
  });

  it('a busy device (exception 6) is asked again after a pause and is not blamed', async () => {
    const units = essUnits(1);
    const port = await serve(units);
    const c = collect();
    // A generous timeout: on a busy machine a late answer must not pass for a device fault here.
    const d = started(driverFor(connection(port, { timeout: 1000 }), [device('ess-1', 'battery', 'plain-ess', 1, 300)], c.ctx));
    units.setFault(1, { exception: 6, times: 2 });
    await d.start();
    await waitFor(() => c.last('ess-1', 'power'), 3000);
    expect(valuesOf(c.readings, 'ess-1')).toEqual({ ...ESS, soc: 1 });
    expect(c.errors.filter((e) => e.kind === 'exception_6')).toHaveLength(2);
    expect(c.errors.filter((e) => e.kind !== 'exception_6')).toEqual([]);
    expect(stateOf(d, 'ess-1')).toBe('online');
  });

  it('a block hitting exception 2 is split, the split is remembered, and its other points arrive', async () => {
    const units = new SimUnits();
    units.add(3, { image: new UnitImage(modbusProfile('heat-pump-xyzz'), [{ cls: 'heat_pump', values: () => HP }]) });
    // Registers 1006–1010 are a hole in this unit's map: any read touching them is refused.
    units.setFault(3, { exception: 2, range: [1006, 1010] });
    const port = await serve(units);
    const c = collect();
    const d = started(driverFor(connection(port), [device('hp-1', 'heat_pump', 'heat-pump-xyzz', 3, 200)], c.ctx));
    await d.start();
    await waitFor(() => (d.health().counters?.['polls'] ?? 0) >= 3, 3000);
    expect(valuesOf(c.readings, 'hp-1')).toEqual(HP);
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
    const splits = c.errors.filter((e) => e.kind === 'exception_2').length;
    expect(splits).toBe(2);
    expect(d.explain('hp-1').slice(2)).toEqual([
      '  FC3 holding 2..2 (1 registers): outdoor_temp',
      '  FC3 holding 1003..1004 (2 registers): mode, supply_temp',
      '  FC3 holding 1005..1005 (1 registers): return_temp',
      '  FC3 holding 1011..1012 (2 registers): thermal_power, electric_power',
      '  FC3 holding 2002..2002 (1 registers): dhw_temp',
      '  FC4 input 5000..5000 (1 registers): sg_ready',
      '  FC3 holding 1020..1023 (4 registers) [slow]: electric_total, thermal_total',
    ]);
    // Later polls use the learned plan: no new exceptions.
    const polls = d.health().counters?.['polls'] ?? 0;
    await waitFor(() => (d.health().counters?.['polls'] ?? 0) >= polls + 2, 3000);
    expect(c.errors.filter((e) => e.kind === 'exception_2')).toHaveLength(splits);
    expect(stateOf(d, 'hp-1')).toBe('online');
  });

  it('a point the device does not have becomes bad not_supported, once; the rest keeps coming', async () => {
    const units = new SimUnits();
    units.add(3, { image: new UnitImage(modbusProfile('heat-pump-xyzz'), [{ cls: 'heat_pump', values: () => HP }]) });
    units.setFault(3, { exception: 2, range: [5000, 5000] });
    const port = await serve(units);
    const c = collect();
    const d = started(driverFor(connection(port), [device('hp-1', 'heat_pump', 'heat-pump-xyzz', 3, 200)], c.ctx));
    await d.start();
    await waitFor(() => (d.health().counters?.['polls'] ?? 0) >= 3, 3000);
    const sg = c.readings.filter((r) => r.metric === 'sg_ready');
    expect(sg).toEqual([expect.objectContaining({ value: null, quality: 'bad', reason: 'not_supported' })]);
    const { sg_ready: _, ...rest } = HP;
    expect(valuesOf(c.readings.filter((r) => r.metric !== 'sg_ready'), 'hp-1')).toEqual(rest);
    expect(d.explain('hp-1')).toContain('  unsupported: input:5000:1');
  });

  it.each([4, 10, 11] as const)('exception %i counts against the device: quarantined, then back', async (code) => {
    const units = essUnits(2);
    units.setFault(2, { exception: code });
    const port = await serve(units);
    const c = collect();
    const devs = [device('ess-1', 'battery', 'plain-ess', 1, 200), device('ess-2', 'battery', 'plain-ess', 2, 200)];
    const d = started(driverFor(connection(port, { quarantine_min: 300, quarantine_max: 600 }), devs, c.ctx));
    await d.start();
    await waitFor(() => stateOf(d, 'ess-2') === 'quarantined', 3000);
    expect(d.health().devices.find((x) => x.id === 'ess-2')?.error).toBe(`exception_${code}`);
    expect(stateOf(d, 'ess-1')).toBe('online');
    units.setFault(2, undefined);
    await waitFor(() => stateOf(d, 'ess-2') === 'online' && c.last('ess-2', 'soc'), 3000);
  });
});
