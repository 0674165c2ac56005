import pino from 'pino';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { systemClock } from '../../../gateway/model/clock.js';
import type { Reading } from '../../../gateway/model/types.js';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { DRIVERS } from '../../../drivers/index.js';
import { ModbusDriver } from '../../../drivers/modbus/driver.js';
import type { ModbusProfile } from '../../../drivers/modbus/profile-schema.js';
import type { ModbusConnection } from '../../../drivers/modbus/transport.js';
import { loadProfiles, profilesOf } from '../../../gateway/site/profiles.js';
import { modbusDriverFactory } from '../../../drivers/modbus/index.js';
import { UnitImage } from '../../../simulators/servers/modbus-image.js';
import { ModbusTcpSimServer } from '../../../simulators/servers/modbus-tcp.js';
import { SimUnits } from '../../../simulators/servers/modbus-units.js';
import { freePort } from '../../helpers/peers.js';
import type { Profile } from '../../../drivers/profiles/schema.js';

/** Profiles as the gateway loads them (the real YAML files). */
export const PROFILES: ReadonlyMap<string, Profile> = loadProfiles(DRIVERS).profiles;
const MODBUS_PROFILES = profilesOf(PROFILES, modbusDriverFactory);

export function modbusProfile(id: string): ModbusProfile {
  const p = MODBUS_PROFILES.get(id);
  if (!p) throw new Error(`no profile ${id}`);
  return p;
}

export interface Collected {
  ctx: DriverContext;
  readings: Reading[];
  errors: { kind: string; device?: string }[];
  /** The last reading of a device's metric. */
  last(device: string, metric: string): Reading | undefined;
}

/** A DriverContext whose ingest records what a real pipeline would commit. */
export function collect(): Collected {
  const readings: Reading[] = [];
  const errors: { kind: string; device?: string }[] = [];
  const ctx: DriverContext = {
    site: 'test',
    clock: systemClock,
    log: pino({ level: 'silent' }),
    dataDir: '/tmp',
    ingest: async (batch) => {
      readings.push(...(batch.readings ?? []));
    },
    reject: () => undefined,
    metrics: {
      pollLatency: () => undefined,
      linkError: (kind, device) => errors.push({ kind, ...(device ? { device } : {}) }),
      messages: () => undefined,
    },
  };
  const last = (device: string, metric: string) => {
    for (let i = readings.length - 1; i >= 0; i--) {
      const r = readings[i];
      if (r && r.device === device && r.metric === metric) return r;
    }
    return undefined;
  };
  return { ctx, readings, errors, last };
}

export function connection(port: number, over: Partial<ModbusConnection> = {}): ModbusConnection {
  return {
    id: 'test-link',
    protocol: 'modbus-tcp',
    host: '127.0.0.1',
    port,
    timeout: 500,
    gap: 2,
    retries: 1,
    reconnect_min: 100,
    reconnect_max: 1000,
    quarantine_min: 500,
    quarantine_max: 2000,
    ...over,
  } as ModbusConnection;
}

export function device(id: string, cls: string, profile: string, unit: number, poll: number, options: DeviceConfig['options'] = {}): DeviceConfig {
  return { id, class: cls, connection: 'test-link', profile, unit, poll, tags: {}, options, enabled: true };
}

export function driverFor(conn: ModbusConnection, devices: DeviceConfig[], ctx: DriverContext): ModbusDriver {
  return new ModbusDriver({
    connection: conn,
    devices: devices.map((config) => {
      const profile = MODBUS_PROFILES.get(config.profile);
      if (!profile) throw new Error(`no profile ${config.profile}`);
      return { config, profile };
    }),
    ctx,
  });
}

/** Reading values of one device by metric (the last of each). */
export function valuesOf(readings: readonly Reading[], device: string): Record<string, Reading['value']> {
  const out: Record<string, Reading['value']> = {};
  for (const r of readings) if (r.device === device) out[r.metric] = r.value;
  return out;
}

/**
 * A Modbus TCP water meter (profile modbus-water-meter, unit 1) on a free loopback port, its
 * volume counter rising by `step` m³ at every read. Stop it when done.
 */
export async function waterMeterServer(step = 0.01, start = 10): Promise<ModbusTcpSimServer> {
  const units = new SimUnits();
  let volume = start;
  units.add(1, { image: new UnitImage(modbusProfile('modbus-water-meter'), [{ cls: 'water_meter', values: () => ({ volume_total: (volume += step), reverse_total: 0, flow: 1.5, dry: false, low_battery: false }) }]) });
  const server = new ModbusTcpSimServer(units, { port: await freePort() });
  await server.start();
  return server;
}
