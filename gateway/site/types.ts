import type { DriverFactory } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { ConnectionConfig, DeviceConfig, DiscoverConfig, GatewayConfig } from '../config/schema.js';

/**
 * What the site knows about one series of a configured device: from its profile (the unit and
 * fixed scale the driver reports it in, the register's range) and from the device (a declared
 * counter maximum, invert). The pipeline and the KPIs read these, and nothing else of the config.
 */
export interface SeriesFacts {
  /** Catalog unit of the metric. */
  catalogUnit: string;
  /** Unit the driver reports the value in (the profile's), when it is not the catalog unit. */
  unit?: string;
  /** Reported value = raw register value × scale; known only for a fixed scale. */
  scale?: number;
  /** Largest raw value + 1 the register holds (uint16: 65536). */
  rawRange?: number;
  /**
   * Where the counter wraps to 0, as declared (`options.counter_max` or `options.<metric>_max`):
   * in the reported unit and in the catalog unit.
   */
  counterMax?: { value: number; unit: string; catalog: number };
  /** The device reports the opposite sign (`options.invert: true`). */
  invert: boolean;
}

export interface ResolvedConnection {
  /** Parsed by its driver's connection schema (defaults applied, durations in ms). */
  config: ConnectionConfig;
  driver: DriverFactory;
}

export interface ResolvedDevice {
  config: DeviceConfig;
  profile: Profile;
  driver: DriverFactory;
  /** Facts of each metric the profile gives a device of this class. */
  series: ReadonlyMap<string, SeriesFacts>;
}

export interface ResolvedRule {
  rule: DiscoverConfig;
  profile: Profile;
  driver: DriverFactory;
}

/** A config that passed the one validation, with everything it names resolved. Frozen. */
export interface ResolvedSite {
  /** The config, its connections parsed by their drivers' schemas. */
  config: Readonly<GatewayConfig>;
  /** Every profile loaded (drivers/profiles and `profiles.dirs`), by id. */
  profiles: ReadonlyMap<string, Profile>;
  connections: ReadonlyMap<string, ResolvedConnection>;
  /** Every configured device, enabled or not, by id. */
  devices: ReadonlyMap<string, ResolvedDevice>;
  discover: readonly ResolvedRule[];
}
