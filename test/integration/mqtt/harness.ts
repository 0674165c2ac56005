import { Aedes } from 'aedes';
import { createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { parseConfig } from '../../../gateway/config/load.js';
import type { GatewayConfig } from '../../../gateway/config/schema.js';
import { systemClock, type Clock } from '../../../gateway/model/clock.js';
import type { EventReading, Reading, Rejection } from '../../../gateway/model/types.js';
import type { DriverContext } from '../../../drivers/core/driver.js';
import type { Loaded } from '../../../drivers/profiles/schema.js';
import { loadProfiles, profilesOf } from '../../../gateway/site/profiles.js';
import { mqttConnectionSchema } from '../../../drivers/mqtt/connection-schema.js';
import type { MqttProfile } from '../../../drivers/mqtt/profile-schema.js';
import { mqttDriverFactory } from '../../../drivers/mqtt/index.js';
import { freePort } from '../../helpers/peers.js';

/**
 * A DriverContext whose ingest is a real in-process consumer: it records what was committed
 * (after an optional delay, to make commit latency visible) and what was rejected.
 */
export interface Collector {
  ctx: DriverContext;
  readings: Reading[];
  events: EventReading[];
  rejections: Rejection[];
  logText: () => string;
  added: string[];
}

export function collector(opts: { clock?: Clock; commitDelayMs?: number; failIngest?: () => boolean } = {}): Collector {
  const readings: Reading[] = [];
  const events: EventReading[] = [];
  const rejections: Rejection[] = [];
  const added: string[] = [];
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      log += chunk.toString();
      cb();
    },
  });
  const ctx: DriverContext = {
    site: 'test',
    clock: opts.clock ?? systemClock,
    log: pino({ level: 'debug' }, sink),
    dataDir: '/tmp',
    ingest: async (batch) => {
      if (opts.commitDelayMs) await new Promise((r) => setTimeout(r, opts.commitDelayMs));
      if (opts.failIngest?.()) throw new Error('store unavailable');
      readings.push(...(batch.readings ?? []));
      events.push(...(batch.events ?? []));
    },
    reject: (r) => {
      rejections.push(r);
      ctx.log.warn({ reason: r.reason, device: r.device }, r.detail);
    },
    addDevice: (d) => {
      added.push(d.id);
      return true;
    },
    metrics: { pollLatency: () => {}, linkError: () => {}, messages: () => {} },
  };
  return { ctx, readings, events, rejections, logText: () => log, added };
}

let profileCache: Map<string, Loaded<MqttProfile>> | undefined;
export function mqttProfiles(): Map<string, Loaded<MqttProfile>> {
  if (!profileCache) {
    const { profiles, problems } = loadProfiles([mqttDriverFactory]);
    const mine = problems.filter((p) => !/unknown or missing protocol/.test(p.message));
    if (mine.length) throw new Error(`profile problems: ${JSON.stringify(mine, null, 2)}`);
    profileCache = profilesOf(profiles, mqttDriverFactory);
  }
  return profileCache;
}

export function config(yaml: string): Readonly<GatewayConfig> {
  return parseConfig(`version: 1\nsite: { id: test }\n${yaml}`);
}

/** Build a driver for the first mqtt connection of a config snippet. */
export function driverFor(cfg: Readonly<GatewayConfig>, ctx: DriverContext) {
  if (!cfg.connections[0]) throw new Error('no connection');
  const connection = mqttConnectionSchema.parse(cfg.connections[0]);
  const profiles = mqttProfiles();
  const devices = cfg.devices.map((d) => {
    const profile = profiles.get(d.profile);
    if (!profile) throw new Error(`no profile ${d.profile}`);
    return { config: d, profile };
  });
  return mqttDriverFactory.create({ connection, devices, discover: cfg.discover, profiles, ctx });
}

/** A real aedes broker on a free loopback port. */
export async function startAedes(): Promise<{ url: string; port: number; aedes: Aedes; stop: () => Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const server: Server = createServer((s) => aedes.handle(s));
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    aedes,
    stop: async () => {
      await new Promise<void>((r) => aedes.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
