import { parseSection, type SimulatorContext, type SimulatorGroup, type SimulatorSectionFactory } from '../core.js';
import type { FaultRates } from './faults.js';
import { PublishingGroup } from './group.js';
import { CommandResponder } from './commands.js';
import { OcppChargePoints } from '../servers/ocpp-charge-points.js';
import type { WaterType } from '../models/lora-water.js';
import { ChargerSource, WaterSource } from './lora-sources.js';
import type { Source } from './outgoing.js';
import { ParkingSource } from './parking-source.js';
import { DoorSource, GarageSource, GateSource, LockerSource } from './vendor-sources.js';
import { LateSource, parcelSync, secondBayDelay } from './late.js';
import { forkRng } from './rng.js';
import { transportSchema, type TransportScenario } from './schema.js';

export { transportSchema, type TransportScenario } from './schema.js';

const GATE_NAMES = ['north', 'south', 'east', 'west'];

/**
 * The transport scene of a community over MQTT: parking sensors (LoRaWAN/ChirpStack), barrier
 * gates and the automated garage, parcel lockers and the logistics platform, access-control
 * doors, EV chargers (OCPP 1.6 JSON) and LoRaWAN water meters.
 */
export const transportSection: SimulatorSectionFactory = (section, ctx) => {
  const s = parseSection('transport', transportSchema, section);
  const t = transportSimulators(s, ctx);
  // Gates and lockers take commands (simulators/transport/commands.ts).
  const gates = s.parking.spaces > 0 ? Array.from({ length: s.gates }, (_, i) => GATE_NAMES[i] ?? `g${i + 1}`) : [];
  const banks = Array.from({ length: s.lockers.banks }, (_, i) => String(i + 1));
  const commands = gates.length || banks.length ? [new CommandResponder(ctx, gates, banks)] : [];
  return [...(t.chargePoints ? [t.chargePoints] : []), ...t.publishing, ...commands];
};

/** The MQTT-publishing groups of the scene (with `parking.ocpp` set, the chargers are not among them). */
export function transportGroups(s: TransportScenario, ctx: SimulatorContext): PublishingGroup[] {
  return transportSimulators(s, ctx).publishing;
}

/** The scene's groups: MQTT publishers, and the OCPP-J charge points when `parking.ocpp` is set. */
export function transportSimulators(s: TransportScenario, ctx: SimulatorContext): { publishing: PublishingGroup[]; chargePoints?: OcppChargePoints } {
  let chargePoints: OcppChargePoints | undefined;
  const start = ctx.clock.now();
  const rng = (name: string) => forkRng(ctx.seed, name);
  const faults: FaultRates = s.faults;
  const common = { faults, restartEvery: s.broker_restart_every ?? 0, tickMs: s.tick };
  const groups: PublishingGroup[] = [];
  const tz = ctx.timezone;
  if (s.parking.spaces > 0) {
    const parking = new ParkingSource(
      { spaces: s.parking.spaces, chargers: Math.min(s.parking.chargers, s.parking.spaces), timezone: tz, heartbeatMs: s.parking.heartbeat },
      rng('parking'),
      start,
    );
    // Gates and chargers follow the cars of the car park, so they advance right after it.
    const gates = Array.from({ length: s.gates }, (_, i) => GATE_NAMES[i] ?? `g${i + 1}`);
    const sources: Source[] = [parking];
    if (gates.length) sources.push(new GateSource(gates, parking, rng('gates')));
    if (s.parking.chargers > 0) {
      const o = s.parking.ocpp;
      const chargers = new ChargerSource(parking, rng('chargers'), start, o ? (outs, now) => chargePoints?.send(outs, now) : undefined);
      if (o) {
        const ids = Array.from({ length: chargers.model.count }, (_, i) => String(i + 1).padStart(3, '0'));
        chargePoints = new OcppChargePoints({ url: `ws://${o.host}:${o.port}${o.path}`, ids, password: o.password, log: ctx.log, clock: ctx.clock });
      }
      sources.push(chargers);
    }
    groups.push(new PublishingGroup({ name: 'transport-parking', sources, ...common }, ctx));
  }
  const late = s.late;
  if (s.garage.enabled && s.garage.spaces > 0) {
    const garage: Source = new GarageSource({ spaces: s.garage.spaces, lifts: s.garage.lifts, timezone: tz }, rng('garage'), start);
    const sources = [late.garage_bay_delay > 0 ? new LateSource(garage, secondBayDelay(late.garage_bay_delay)) : garage];
    groups.push(new PublishingGroup({ name: 'transport-garage', sources, ...common }, ctx));
  }
  if (s.lockers.banks > 0) {
    const lockers: Source = new LockerSource({ banks: s.lockers.banks, compartments: s.lockers.compartments, parcelsPerDay: s.lockers.parcels_per_day, timezone: tz }, rng('lockers'), start);
    const sources = [late.parcel_sync > 0 ? new LateSource(lockers, parcelSync(late.parcel_sync)) : lockers];
    groups.push(new PublishingGroup({ name: 'transport-lockers', sources, ...common }, ctx));
  }
  if (s.doors > 0) groups.push(new PublishingGroup({ name: 'transport-doors', sources: [new DoorSource({ doors: s.doors, timezone: tz }, rng('doors'), start)], ...common }, ctx));
  const types: WaterType[] = [
    ...Array.from({ length: s.water.potable }, () => 'potable' as const),
    ...Array.from({ length: s.water.reclaimed }, () => 'reclaimed' as const),
    ...Array.from({ length: s.water.rainwater }, () => 'rainwater' as const),
  ];
  if (types.length) {
    const o = late.water_outage;
    const outage = o && o.meter <= types.length ? { meter: o.meter - 1, from: start + o.at, until: start + o.at + o.for } : undefined;
    groups.push(new PublishingGroup({ name: 'transport-water', sources: [new WaterSource({ types, timezone: tz, leakChancePerDay: s.water.leak_chance_per_day }, rng('water'), start, outage)], ...common }, ctx));
  }
  return { publishing: groups, ...(chargePoints ? { chargePoints } : {}) };
}

export type { SimulatorGroup };
