import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DRIVERS } from '../../drivers/index.js';
import type { ModbusProfile } from '../../drivers/modbus/profile-schema.js';
import { loadProfiles, PROFILE_DIR } from '../../gateway/site/profiles.js';
import { ScenarioError, parseSection, type SimulatorGroup, type SimulatorSectionFactory } from '../core.js';
import { UnitImage } from '../servers/modbus-image.js';
import { ModbusTcpSimServer } from '../servers/modbus-tcp.js';
import { SimUnits } from '../servers/modbus-units.js';
import { generatorSchema, valueAt } from './generators.js';
import { jsonMessage } from './json-message.js';
import { parseDuration } from '../../gateway/model/config-units.js';
import type { MqttProfile } from '../../drivers/mqtt/profile-schema.js';
import { compileTopic } from '../../drivers/mqtt/topic.js';
import { MqttPublisher } from '../servers/mqtt-publisher.js';

/**
 * Simulated devices of any Modbus profile, built-in or the integrator's own, with value generators
 * (simulators/profiles/generators.ts), without code: the scenario's `devices:` section. Each unit
 * encodes its values through the same profile and codec table the driver decodes with, so the
 * gateway reads back exactly what the generators say.
 *
 * ```yaml
 * devices:
 *   profile_dirs: [./profiles]        # besides the built-in profiles (relative to the working directory)
 *   modbus:
 *     - port: 15030
 *       units:
 *         - unit: 1
 *           profile: heat-meter-hm3
 *           class: heat_meter         # default: the profile's first class
 *           values: { supply_temp: 55.2, return_temp: { random: [40, 44] }, thermal_total: { counter: { start: 123456, rate: 12.5, per: 1h } } }
 * ```
 */
export const devicesSchema = z.strictObject({
  profile_dirs: z.array(z.string()).default([]),
  modbus: z
    .array(
      z.strictObject({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(1).max(65535),
        units: z.array(z.strictObject({ unit: z.number().int().min(0).max(255), profile: z.string(), class: z.string().optional(), values: z.record(z.string(), generatorSchema) })).min(1),
      }),
    )
    .default([]),
  /** MQTT devices of a JSON profile: each `every`, a message with every reading's path set. */
  mqtt: z
    .array(
      z.strictObject({
        id: z.string(),
        profile: z.string(),
        class: z.string().optional(),
        options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
        every: z.string().refine((x) => (parseDuration(x) ?? 0) > 0, { message: 'a duration such as 10s' }).default('10s'),
        values: z.record(z.string(), generatorSchema),
      }),
    )
    .default([]),
});

export const devicesSection: SimulatorSectionFactory = (section, ctx) => {
  const s = parseSection('devices', devicesSchema, section);
  const dirs = [PROFILE_DIR, ...s.profile_dirs.map((d) => (isAbsolute(d) ? d : resolve(d)))];
  const { profiles, problems } = loadProfiles(DRIVERS, dirs);
  const t0 = ctx.clock.now();
  const mqttGroups = s.mqtt.map((d): SimulatorGroup => {
    const profile = profiles.get(d.profile) as unknown as (MqttProfile & { protocol: string }) | undefined;
    if (!profile || profile.protocol !== 'mqtt') throw new ScenarioError(`devices: mqtt ${d.id}: ${profile ? `profile ${d.profile} is not an MQTT profile` : `no profile "${d.profile}"`}`);
    if (profile.envelope !== 'json') throw new ScenarioError(`devices: mqtt ${d.id}: profile ${d.profile} has the ${profile.envelope} envelope; only json devices are simulated from a profile yet`);
    if (!ctx.mqttUrl) throw new ScenarioError(`devices: mqtt ${d.id}: no broker to publish to`);
    const topic = compileTopic(profile.topic ?? 'devices/{device}/up', { device: d.id, ...Object.fromEntries(Object.entries(d.options).map(([k, v]) => [k, String(v)])) });
    if (!topic.exact) throw new ScenarioError(`devices: mqtt ${d.id}: topic ${topic.source} has levels no option fills (${topic.names.join(', ')})`);
    const pub = new MqttPublisher({ url: ctx.mqttUrl, clientId: `sim-${d.id}`, log: ctx.log });
    const every = parseDuration(d.every) as number;
    let timer: NodeJS.Timeout | undefined;
    const send = () => {
      const now = ctx.clock.now();
      const values = Object.fromEntries(Object.entries(d.values).map(([m, g]) => [m, valueAt(g, m, now, t0, ctx.seed)]));
      pub.publish(topic.filter, JSON.stringify(jsonMessage(profile, values, now)));
    };
    return {
      name: `devices-mqtt-${d.id}`,
      start: async () => {
        await pub.start();
        send();
        timer = setInterval(send, Math.max(10, every / ctx.speed));
      },
      stop: async () => {
        clearInterval(timer);
        await pub.drain(2000);
        await pub.stop();
      },
      groundTruth: () => ({}),
    };
  });
  return [...mqttGroups, ...s.modbus.map((ep): SimulatorGroup => {
    const units = new SimUnits();
    for (const u of ep.units) {
      const profile = profiles.get(u.profile);
      if (!profile || profile.protocol !== 'modbus') {
        const why = problems.filter((p) => p.file.endsWith(`/${u.profile}.yaml`)).map((p) => `${p.path}: ${p.message}`);
        throw new ScenarioError(`devices: port ${ep.port} unit ${u.unit}: ${profile ? `profile ${u.profile} is not a Modbus profile` : `no profile "${u.profile}"${why.length ? ` (${why.join('; ')})` : ''}`}`);
      }
      const cls = u.class ?? (profile.classes[0] as string);
      const image = new UnitImage(profile as unknown as ModbusProfile, [
        { cls, values: () => Object.fromEntries(Object.entries(u.values).map(([m, g]) => [m, valueAt(g, m, ctx.clock.now(), t0, ctx.seed)])) },
      ]);
      units.add(u.unit, { image, refresh: () => image.refresh() });
    }
    const server = new ModbusTcpSimServer(units, { host: ep.host, port: ep.port });
    return { name: `devices-modbus-${ep.port}`, start: () => server.start(), stop: () => server.stop(), groundTruth: () => ({}) };
  })];
};
