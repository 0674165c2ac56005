import type { Logger } from 'pino';
import { driverFor } from '../../drivers/index.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';

/**
 * How one device will be read (`fcgw explain`): its driver, created with a context that does
 * no I/O, describes its plan (Modbus requests, MQTT topics, OPC UA nodes). Nothing is started.
 */
export function explainDevice(
  deviceId: string,
  env: { config: GatewayConfig; profiles: ReadonlyMap<string, Profile>; clock: Clock; log: Logger; dataDir: string },
): string[] {
  const { config, profiles } = env;
  const device = config.devices.find((d) => d.id === deviceId);
  if (!device) return [`no device "${deviceId}"`];
  const conn = config.connections.find((c) => c.id === device.connection);
  const factory = conn ? driverFor(conn.protocol) : undefined;
  const profile = profiles.get(device.profile);
  if (!conn || !factory || !profile) return [`device ${deviceId}: no driver for its connection`];
  const driver = factory.create({
    connection: conn,
    devices: [{ config: device, profile }],
    discover: [],
    config,
    profiles,
    ctx: {
      site: config.site.id,
      clock: env.clock,
      log: env.log,
      dataDir: env.dataDir,
      ingest: () => Promise.resolve(),
      reject: () => undefined,
      metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined },
    },
  });
  const header = `${device.id} (${device.class}) on ${conn.id} [${conn.protocol}], profile ${profile.id}`;
  return [header, ...(driver.explain?.(deviceId) ?? ['(this driver cannot explain its plan)'])];
}
