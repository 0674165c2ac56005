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
  if (!device) return discovered(deviceId, config);
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

/**
 * A device not in `devices:` may come from a `discover:` rule whose id template fits it. Rules
 * with literal text in the template ("door-{door}") are the telling ones; a bare placeholder
 * ("{deviceName}") fits any id, so those rules are listed only when no telling one fits.
 */
function discovered(deviceId: string, config: GatewayConfig): string[] {
  const literal = (id: string) => id.replace(/\{[^}]+\}/g, '').length > 0;
  const fits = config.discover.filter((r) => {
    const parts = r.id.split(/\{[^}]+\}/).map((p) => p.replace(/[.*+?^$()|[\]\\]/g, '\\$&'));
    return new RegExp(`^${parts.join('.+')}$`).test(deviceId);
  });
  const telling = fits.filter((r) => literal(r.id));
  const shown = telling.length ? telling : fits;
  if (shown.length === 0) return [`no device "${deviceId}": not in devices, and no discover rule's id template fits it`];
  return [
    telling.length
      ? `${deviceId} is not configured; it is created when a message arrives on this discover rule:`
      : `${deviceId} is not configured; one of these discover rules may create it (their ids come from the messages):`,
    ...shown.map((r) => `  ${r.connection}: ${r.topic} (${r.envelope}) → class ${r.class}, profile ${r.profile}, id ${r.id}`),
  ];
}
