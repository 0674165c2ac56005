import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../drivers/index.js';
import { ModbusDriver } from '../../../drivers/modbus/driver.js';
import type { ModbusProfile } from '../../../drivers/modbus/profile-schema.js';
import { loadProfiles, PROFILE_DIR } from '../../../gateway/site/profiles.js';
import type { Loaded } from '../../../drivers/profiles/schema.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { startSimulators, ScenarioError } from '../../../simulators/index.js';
import { valueAt } from '../../../simulators/profiles/generators.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { mqttConnectionSchema } from '../../../drivers/mqtt/connection-schema.js';
import { mqttDriverFactory } from '../../../drivers/mqtt/index.js';
import type { MqttProfile } from '../../../drivers/mqtt/profile-schema.js';
import { collector, startAedes } from '../mqtt/harness.js';
import { collect, connection, device, valuesOf } from '../modbus/harness.js';

/**
 * A scenario adds simulated devices of any Modbus profile, the integrator's own included, with
 * value generators and no code; the real driver reads back what the generators say, through the
 * same profile.
 */
const USER_PROFILES = join(import.meta.dirname, '../../fixtures/integrator/profiles');
const stops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

describe('simulated devices from profiles (scenario section `devices`)', () => {
  it('serves a user profile\'s heat meter with constant, random, sine and counter values; the driver reads them back', async () => {
    const port = await freePort();
    const t0 = Date.UTC(2024, 10, 22, 2, 0, 0);
    const clock = new ManualClock(t0);
    const values = {
      supply_temp: 55.2,
      return_temp: { random: [40, 44] as [number, number], every: '10s' },
      thermal_power: { sine: { mean: 12.5, amplitude: 5, period: '1h', phase: 0 } },
      thermal_total: { counter: { start: 123456, rate: 12, per: '1h' } },
      flow: 3.6,
    };
    const sims = await startSimulators(
      { devices: { profile_dirs: [USER_PROFILES], modbus: [{ port, units: [{ unit: 1, profile: 'heat-meter-hm3', values }] }] } },
      { clock, speed: 1, seed: 7, log: pino({ level: 'silent' }), site: 't', latitude: 30, longitude: 120, timezone: 'Asia/Shanghai' },
    );
    stops.push(() => sims.stop());
    clock.set(t0 + 15 * 60_000); // a quarter of an hour in: sine at its peak, 3 kWh counted
    const profile = loadProfiles(DRIVERS, [PROFILE_DIR, USER_PROFILES]).profiles.get('heat-meter-hm3') as unknown as Loaded<ModbusProfile>;
    const c = collect();
    const d = new ModbusDriver({ connection: connection(port), devices: [{ config: device('hm', 'heat_meter', 'heat-meter-hm3', 1, 300), profile }], ctx: c.ctx });
    stops.push(() => d.stop());
    await d.start();
    await waitFor(() => c.last('hm', 'thermal_total') && c.last('hm', 'supply_temp'), 5000);
    const got = valuesOf(c.readings, 'hm');
    const t = clock.now();
    const random = valueAt(values.return_temp, 'return_temp', t, t0, 7) as number;
    expect(random).toBeGreaterThanOrEqual(40);
    expect(random).toBeLessThanOrEqual(44);
    // Each value as the profile's registers hold it (0.01 °C, 0.1 kW, whole kWh).
    expect(got).toEqual({ supply_temp: 55.2, return_temp: Math.round(random * 100) / 100, thermal_power: 17.5, thermal_total: 123459, flow: 3.6 });
    expect(c.readings.filter((r) => r.quality !== undefined)).toEqual([]);
  });

  it('publishes an MQTT device of a user JSON profile: each reading\'s path set, the timestamp in the profile\'s format', async () => {
    const t = tempDir('fcgw-simdev-');
    stops.push(async () => t.cleanup());
    mkdirSync(join(t.dir, 'profiles'));
    writeFileSync(
      join(t.dir, 'profiles/my-wm.yaml'),
      `id: my-wm
description: a JSON water meter
classes: [water_meter]
protocol: mqtt
topic: meters/{device}/data
timestamp: { path: time, format: epoch_s }
readings:
  - { metric: volume_total, path: meter.volume_l, unit: L }
  - { metric: flow, path: meter.flow_lh, unit: L/h }
  - { metric: leak, path: alarms.leak }
`,
    );
    const broker = await startAedes();
    stops.push(() => broker.stop());
    const t0 = Date.UTC(2024, 10, 22, 2, 0, 0);
    const clock = new ManualClock(t0);
    const values = { volume_total: { counter: { start: 1000, rate: 60, per: '1h' } }, flow: 60, leak: false };
    const c = collector();
    const profiles = loadProfiles(DRIVERS, [PROFILE_DIR, join(t.dir, 'profiles')]).profiles;
    const profile = profiles.get('my-wm') as unknown as Loaded<MqttProfile>;
    const d = mqttDriverFactory.create({ connection: mqttConnectionSchema.parse({ id: 'lan', protocol: 'mqtt', url: broker.url }), devices: [{ config: { id: 'wm-9', class: 'water_meter', connection: 'lan', profile: 'my-wm', tags: {}, options: {}, enabled: true }, profile }], discover: [], profiles, ctx: c.ctx });
    stops.push(() => d.stop());
    await d.start();
    clock.set(t0 + 30 * 60_000);
    const sims = await startSimulators(
      { devices: { profile_dirs: [join(t.dir, 'profiles')], mqtt: [{ id: 'wm-9', profile: 'my-wm', every: '1h', values }] } },
      { clock, speed: 1, seed: 7, log: pino({ level: 'silent' }), site: 't', latitude: 30, longitude: 120, timezone: 'Asia/Shanghai', mqttUrl: broker.url },
    );
    stops.push(() => sims.stop());
    await waitFor(() => c.readings.length >= 3, 5000);
    expect(c.rejections).toEqual([]);
    expect(c.readings.map((r) => [r.metric, r.value, r.unit, r.ts]).sort()).toEqual([
      ['flow', 60, 'L/h', t0 + 30 * 60_000],
      ['leak', false, undefined, t0 + 30 * 60_000],
      ['volume_total', 1000, 'L', t0 + 30 * 60_000], // the counter counts from the scenario's start
    ]);
  });

  it('refuses a unit whose profile does not exist, naming it', async () => {
    const ctx = { clock: new ManualClock(0), speed: 1, seed: 1, log: pino({ level: 'silent' }), site: 't', latitude: 30, longitude: 120, timezone: 'Asia/Shanghai' };
    await expect(startSimulators({ devices: { modbus: [{ port: 1, units: [{ unit: 1, profile: 'heat-meter-hm4', values: {} }] }] } }, ctx)).rejects.toThrow(ScenarioError);
    await expect(startSimulators({ devices: { modbus: [{ port: 1, units: [{ unit: 1, profile: 'heat-meter-hm4', values: {} }] }] } }, ctx)).rejects.toThrow('no profile "heat-meter-hm4"');
  });
});
