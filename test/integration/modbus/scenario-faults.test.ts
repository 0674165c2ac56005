import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import type { SimulatorGroup } from '../../../simulators/core.js';
import { energySection } from '../../../simulators/energy/index.js';
import { freePort, waitFor } from '../../helpers/peers.js';
import { collect, connection, device, driverFor } from './harness.js';

/**
 * Faults injected from a scenario file's `energy:` section (as `fcgw simulate` and the demo read
 * it), seen by the driver over real sockets: not-implemented values, a counter rolling over at
 * the meter's maximum, busy, device failure, a gateway path failure, no answer, slow answers and
 * a dropped connection.
 */

let stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops = [];
});

const stateOf = (h: { devices: { id: string; state: string; error?: string }[] }, id: string) => h.devices.find((d) => d.id === id);

describe('faults from the scenario', () => {
  it('each unit misbehaves as its scenario entry says; its neighbours do not notice', async () => {
    const [plant, line] = [await freePort(), await freePort()];
    const section = {
      step: '5s',
      endpoints: [
        {
          name: 'plant',
          framing: 'tcp',
          port: plant,
          units: [
            { unit: 1, profile: 'sunspec', sunspec: { models: [103] }, devices: [{ id: 'pv', model: 'pv', not_implemented: ['ac_power'] }] },
            { unit: 2, profile: 'heat-pump-xyzz', fault: { exception: 6, times: 2 }, devices: [{ id: 'hp', model: 'heat_pump' }] },
            { unit: 3, profile: 'plain-ess', fault: { exception: 4 }, devices: [{ id: 'failing', model: 'battery' }] },
            { unit: 4, profile: 'plain-ess', fault: { exception: 11 }, devices: [{ id: 'unreachable', model: 'battery' }] },
            { unit: 5, profile: 'plain-ess', fault: { no_answer: true }, devices: [{ id: 'dead', model: 'battery' }] },
            { unit: 6, profile: 'plain-ess', fault: { slow: 60 }, devices: [{ id: 'slow', model: 'battery' }] },
          ],
        },
        {
          name: 'line',
          framing: 'rtu-over-tcp',
          port: line,
          units: [
            // A meter at 99990 m³ that wraps at 100000 (its register maximum) within seconds.
            { unit: 7, profile: 'modbus-water-meter', devices: [{ id: 'wm', model: 'water', m3_per_day: 2400, counter_offset: 99_990, counter_modulo: 100_000 }] },
            { unit: 8, profile: 'modbus-water-meter', fault: { disconnect: true, times: 1 }, devices: [{ id: 'wm-drop', model: 'water' }] },
          ],
        },
      ],
    };
    const clock = new AcceleratedClock(Date.parse('2024-04-15T09:00:00+08:00'), 600);
    const groups: SimulatorGroup[] = energySection(section, { clock, speed: 600, seed: 3, log: pino({ level: 'silent' }), site: 't', latitude: 30.27, longitude: 120.15, timezone: 'Asia/Shanghai' });
    for (const g of groups) {
      await g.start();
      stops.push(() => g.stop());
    }
    const c = collect();
    const q = { timeout: 150, retries: 0, quarantine_min: 5000, quarantine_max: 5000 };
    const a = driverFor(
      connection(plant, q),
      [
        device('pv', 'pv_inverter', 'sunspec', 1, 200),
        device('hp', 'heat_pump', 'heat-pump-xyzz', 2, 200),
        device('failing', 'battery', 'plain-ess', 3, 200),
        device('unreachable', 'battery', 'plain-ess', 4, 200),
        device('dead', 'battery', 'plain-ess', 5, 200),
        device('slow', 'battery', 'plain-ess', 6, 200),
      ],
      c.ctx,
    );
    const b = driverFor(connection(line, { ...q, id: 'line', protocol: 'modbus-rtu-over-tcp', timeout: 300 } as never), [device('wm', 'water_meter', 'modbus-water-meter', 7, 100), device('wm-drop', 'water_meter', 'modbus-water-meter', 8, 100)], c.ctx);
    for (const d of [a, b]) {
      stops.push(() => d.stop());
      await d.start();
    }

    await waitFor(() => c.last('hp', 'thermal_total') && c.last('slow', 'soc') && c.last('pv', 'energy_total') && (b.health().counters?.['disconnects'] ?? 0) >= 1, 15_000);
    // Not implemented: a bad reading, never a number; the rest of the unit is fine.
    expect(c.last('pv', 'ac_power')).toMatchObject({ value: null, quality: 'bad', reason: 'not_implemented' });
    expect(c.last('pv', 'energy_total')?.quality).toBeUndefined();
    // Busy twice, then answered within the same poll: not held against the device.
    expect(c.errors.filter((e) => e.device === 'hp' && e.kind === 'exception_6')).toHaveLength(2);
    const h = a.health();
    expect(stateOf(h, 'hp')?.state).toBe('online');
    expect(stateOf(h, 'failing')).toMatchObject({ state: 'quarantined', error: 'exception_4' });
    expect(stateOf(h, 'unreachable')).toMatchObject({ state: 'quarantined', error: 'exception_11' });
    expect(stateOf(h, 'dead')).toMatchObject({ state: 'quarantined', error: 'timeout' });
    expect(stateOf(h, 'slow')?.state).toBe('online');
    expect(c.readings.some((r) => ['failing', 'unreachable', 'dead'].includes(r.device))).toBe(false);

    // The rollover: the meter passes 100000 m³ and starts again near 0.
    const vols = await waitFor(() => {
      const v = c.readings.filter((r) => r.device === 'wm' && r.metric === 'volume_total').map((r) => Number(r.value));
      return v.some((x) => x > 99_990) && v.some((x) => x < 50) ? v : undefined;
    }, 5000);
    expect(vols.findIndex((x) => x < 50)).toBeGreaterThan(vols.findIndex((x) => x > 99_990));
    // The dropped connection came back by itself, and both meters kept reporting.
    await waitFor(() => b.health().state === 'connected' && c.last('wm-drop', 'volume_total'), 10_000);
    // The request that was in flight failed as a lost link at once: the meter is not to blame.
    expect(c.errors.filter((e) => e.device === 'wm-drop')).toEqual([]);
    const truth = groups.map((g) => g.groundTruth() as { modbus: { exceptions: number; unanswered: number } });
    expect(truth[0]?.modbus.exceptions).toBeGreaterThanOrEqual(4);
    expect(truth[0]?.modbus.unanswered).toBeGreaterThanOrEqual(1);
  }, 15_000);
});
