import type { DriverFactory } from './core/driver.js';
import { mqttDriverFactory } from './mqtt/index.js';
import { modbusDriverFactory } from './modbus/index.js';
import { opcuaDriverFactory } from './opcua/index.js';
import { dlt645DriverFactory } from './dlt645/index.js';
import { cjt188DriverFactory } from './cjt188/index.js';
import { ocppDriverFactory } from './ocpp/index.js';
import { gtfsRtDriverFactory } from './gtfs-rt/index.js';

/**
 * Every driver folder registers here, one line each. A test fails when a folder under drivers/
 * (other than core and profiles) is missing from this list. Each factory is typed over its own
 * connection and profile types; the list holds them by the common contract (gateway/site parses
 * every connection and profile with its own driver's schema before a driver sees it).
 */
export const DRIVERS: readonly DriverFactory[] = [
  mqttDriverFactory as unknown as DriverFactory,
  modbusDriverFactory as unknown as DriverFactory,
  opcuaDriverFactory as unknown as DriverFactory,
  dlt645DriverFactory as unknown as DriverFactory,
  cjt188DriverFactory as unknown as DriverFactory,
  ocppDriverFactory as unknown as DriverFactory,
  gtfsRtDriverFactory as unknown as DriverFactory,
];

export function driverFor(protocol: string): DriverFactory | undefined {
  return DRIVERS.find((d) => d.protocols.includes(protocol));
}
