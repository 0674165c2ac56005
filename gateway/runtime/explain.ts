import type { Logger } from 'pino';
import type { Driver } from '../../drivers/core/driver.js';
import { driverFor } from '../../drivers/index.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';

interface ExplainEnv {
  config: GatewayConfig;
  profiles: ReadonlyMap<string, Profile>;
  clock: Clock;
  log: Logger;
  dataDir: string;
}

/** The device's driver, alone on its connection, with a context that keeps nothing it reads. */
function soloDriver(deviceId: string, env: ExplainEnv, onIngest: (n: number) => void = () => undefined): { driver: Driver; header: string } | string[] {
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
    profiles,
    ctx: {
      site: config.site.id,
      ...(config.broker.embedded ? { embeddedBrokerAddress: { host: config.broker.embedded.host, port: config.broker.embedded.port } } : {}),
      clock: env.clock,
      log: env.log,
      dataDir: env.dataDir,
      ingest: (batch) => {
        onIngest((batch.readings?.length ?? 0) + (batch.events?.length ?? 0));
        return Promise.resolve();
      },
      reject: () => undefined,
      metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined },
    },
  });
  return { driver, header: `${device.id} (${device.class}) on ${conn.id} [${conn.protocol}], profile ${profile.id}` };
}

/**
 * How one device will be read (`fcgw explain`): its driver, created with a context that does
 * no I/O, describes its plan (Modbus requests, MQTT topics, OPC UA nodes). Nothing is started.
 */
export function explainDevice(deviceId: string, env: ExplainEnv): string[] {
  const solo = soloDriver(deviceId, env);
  if (Array.isArray(solo)) return solo;
  return [solo.header, ...(solo.driver.explain?.(deviceId) ?? ['(this driver cannot explain its plan)'])];
}

/**
 * `fcgw explain --probe`: the same, after the driver has talked to the device once, so what
 * only the device can tell is filled in (a SunSpec device's model chain and the absolute
 * addresses of every read). Nothing read is kept. Ends at the first poll or at `timeoutMs`.
 */
export async function probeDevice(deviceId: string, env: ExplainEnv, timeoutMs = 15_000): Promise<{ lines: string[]; ok: boolean }> {
  let values = 0;
  let wake: () => void = () => undefined;
  const solo = soloDriver(deviceId, env, (n) => {
    values += n;
    wake();
  });
  if (Array.isArray(solo)) return { lines: solo, ok: false };
  const { driver, header } = solo;
  const started = performance.now();
  await driver.start();
  try {
    // Wait for the first values, or until the driver gives up on the device (quarantine) or
    // cannot reach it at all (the link backs off).
    const settled = () => {
      const h = driver.health();
      return values > 0 || h.state === 'backoff' || h.devices.find((x) => x.id === deviceId)?.state === 'quarantined';
    };
    while (!settled() && performance.now() - started < timeoutMs) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      });
    }
    const h = driver.health();
    const d = h.devices.find((x) => x.id === deviceId);
    const ms = Math.round(performance.now() - started);
    const outcome =
      values > 0
        ? `probe: the device answered; ${values} values in the first poll (${ms} ms)`
        : `probe: no values within ${ms} ms: link ${h.state}, device ${d?.state ?? 'unknown'}${d?.error ? ` (${d.error})` : h.error ? ` (${h.error})` : ''}`;
    return { lines: [header, ...(driver.explain?.(deviceId) ?? ['(this driver cannot explain its plan)']), outcome], ok: values > 0 };
  } finally {
    await driver.stop();
  }
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
