import { DRIVERS } from '../../drivers/index.js';
import type { ModbusProfile } from '../../drivers/modbus/profile-schema.js';
import { loadProfiles } from '../../gateway/site/profiles.js';
import { parseSection, type SimulatorSectionFactory } from '../core.js';
import { EnergyCommunity } from './community.js';
import { EnergyGroup } from './group.js';
import { MeterBusGroup } from './bus-group.js';
import { energySchema } from './schema.js';

export { EnergyCommunity } from './community.js';
export { EnergyGroup } from './group.js';
export { energySchema, type EnergyScenario } from './schema.js';

/** Modbus profiles as the gateway loads them: the simulators encode through the same ones. */
export function modbusProfiles(): Map<string, ModbusProfile> {
  const { profiles } = loadProfiles(DRIVERS);
  const out = new Map<string, ModbusProfile>();
  for (const [id, p] of profiles) if (p.protocol === 'modbus') out.set(id, p as unknown as ModbusProfile);
  return out;
}

/**
 * The energy scene over Modbus: PV inverters, batteries and the grid meter (SunSpec), heat pumps
 * with their buffer tank, Modbus water meters — one coupled, seeded community model served by
 * Modbus TCP and RTU-over-TCP endpoints on loopback, and buses of DL/T 645 and CJ/T 188 meters
 * behind simulated serial-device servers.
 */
export const energySection: SimulatorSectionFactory = (section, ctx) => {
  const s = parseSection('energy', energySchema, section);
  const community = new EnergyCommunity(s, { start: ctx.clock.now(), seed: ctx.seed, latitude: ctx.latitude, longitude: ctx.longitude, timezone: ctx.timezone });
  const profiles = modbusProfiles();
  return [...s.endpoints.map((e) => new EnergyGroup(e, community, profiles, ctx.clock, s.load_kw)), ...s.buses.map((b) => new MeterBusGroup(b, community, ctx.clock))];
};
