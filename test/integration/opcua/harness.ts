import pino from 'pino';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { ManualClock, systemClock, type Clock } from '../../../gateway/model/clock.js';
import type { Reading } from '../../../gateway/model/types.js';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { DRIVERS } from '../../../drivers/index.js';
import { OpcuaDriver } from '../../../drivers/opcua/driver.js';
import type { OpcuaConnection } from '../../../drivers/opcua/session.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';
import type { Loaded } from '../../../drivers/profiles/schema.js';
import { profilesOf } from '../../../gateway/site/profiles.js';
import { opcuaConnectionSchema } from '../../../drivers/opcua/connection-schema.js';
import { opcuaDriverFactory } from '../../../drivers/opcua/index.js';
import type { OpcuaProfile } from '../../../drivers/opcua/profile-schema.js';
import { StationGroup, stationSchema, type StationScenario } from '../../../simulators/opcua/index.js';

export const PROFILES = profilesOf(loadProfiles(DRIVERS).profiles, opcuaDriverFactory);
export const STATION_PROFILE = PROFILES.get('energy-station') as Loaded<OpcuaProfile>;

/** The station of the demo scenario, on `port`, with overrides. */
/** The test station as written in a scenario file (before validation). */
export function stationRaw(port: number, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    port,
    heat_pumps: [
      { id: 'hp-1', folder: 'HP1', rated_kw: 90 },
      { id: 'hp-2', folder: 'HP2', rated_kw: 90 },
      { id: 'hp-3', folder: 'HP3', rated_kw: 60 },
    ],
    tank: { id: 'tank', folder: 'Tank', volume_m3: 40 },
    electricity_meter: { id: 'power', folder: 'ElectricityMeter' },
    heat_meter: { id: 'heat', folder: 'HeatMeter' },
    ...over,
  };
}

export function stationScenario(port: number, over: Partial<Record<keyof StationScenario, unknown>> = {}): StationScenario {
  return stationSchema.parse(stationRaw(port, over));
}

/**
 * A station simulator. Its server certificate lives in the shared simulator PKI folder (made once
 * per machine, then reused), so a test file does not pay for a new RSA key each run.
 */
export function station(s: StationScenario, clock: Clock, speed = 1): StationGroup {
  return new StationGroup(s, clock, { seed: 7, latitude: 30.27, longitude: 120.15, speed });
}

/** The devices of stationScenario() as gateway devices on connection `conn`. */
export function stationDevices(conn: string, over: Partial<DeviceConfig> = {}): DeviceConfig[] {
  const d = (id: string, cls: string, folder: string): DeviceConfig => ({
    id,
    class: cls,
    connection: conn,
    profile: 'energy-station',
    tags: {},
    options: { folder },
    enabled: true,
    ...over,
  });
  return [d('hp-1', 'heat_pump', 'HP1'), d('hp-2', 'heat_pump', 'HP2'), d('hp-3', 'heat_pump', 'HP3'), d('tank', 'thermal_storage', 'Tank'), d('power', 'grid_meter', 'ElectricityMeter'), d('heat', 'heat_meter', 'HeatMeter')];
}

export function opcuaConnection(port: number, over: Record<string, unknown> = {}): OpcuaConnection {
  return opcuaConnectionSchema.parse({ id: 'station', protocol: 'opcua', endpoint: `opc.tcp://127.0.0.1:${port}`, timeout: '3s', reconnect_max: '2s', ...over });
}

export interface Collected {
  ctx: DriverContext;
  readings: Reading[];
  rejects: string[];
  /** Each `ctx.alive` call: the devices a keep-alive confirmed, and when. */
  alive: { devices: string[]; at: number }[];
  last(device: string, metric: string): Reading | undefined;
}

/** A DriverContext whose ingest records what a real pipeline would commit. */
export function collect(dataDir: string, clock: Clock = systemClock): Collected {
  const readings: Reading[] = [];
  const rejects: string[] = [];
  const alive: Collected['alive'] = [];
  const ctx: DriverContext = {
    site: 'test',
    clock,
    log: pino({ level: 'silent' }),
    dataDir,
    ingest: async (batch) => {
      readings.push(...(batch.readings ?? []));
    },
    reject: (r) => rejects.push(`${r.device ?? ''}:${r.reason}:${r.detail}`),
    alive: (devices) => void alive.push({ devices: [...devices], at: Date.now() }),
    metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined },
  };
  const last = (device: string, metric: string) => {
    for (let i = readings.length - 1; i >= 0; i--) {
      const r = readings[i];
      if (r && r.device === device && r.metric === metric) return r;
    }
    return undefined;
  };
  return { ctx, readings, rejects, alive, last };
}

/** The shipped profile publishing every `publishMs` (tests wait less than at the profile's 1 s). */
export function fastProfile(publishMs = 200): Loaded<OpcuaProfile> {
  const p = STATION_PROFILE;
  return { ...p, defaults: { ...p.defaults, publishing_interval: publishMs } };
}

export function driver(connection: OpcuaConnection, devices: DeviceConfig[], c: Collected, profile: Loaded<OpcuaProfile> = fastProfile()): OpcuaDriver {
  return new OpcuaDriver({ connection, devices: devices.map((config) => ({ config, profile })), ctx: c.ctx });
}

export { ManualClock };
