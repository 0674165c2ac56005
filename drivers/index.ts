import type { DriverFactory } from './core/driver.js';
import { mqttDriverFactory } from './mqtt/index.js';
import { modbusDriverFactory } from './modbus/index.js';
import { opcuaDriverFactory } from './opcua/index.js';

/**
 * Every driver folder registers here, one line each. A test fails when a folder under drivers/
 * (other than core and profiles) is missing from this list.
 */
export const DRIVERS: readonly DriverFactory[] = [
  mqttDriverFactory,
  modbusDriverFactory,
  opcuaDriverFactory,
];

export function driverFor(protocol: string): DriverFactory | undefined {
  return DRIVERS.find((d) => (d.protocols as readonly string[]).includes(protocol));
}
