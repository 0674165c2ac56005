import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { DriverContext, DriverMetrics, EmbeddedBrokerHandle } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { DeviceConfig, DiscoverConfig } from '../config/schema.js';
import type { Ingestor } from '../pipeline/ingest.js';
import type { StalenessTracker } from '../pipeline/staleness.js';
import type { GatewayMetrics } from './metrics.js';
import type { DeviceRegistry } from './devices.js';

/** What one driver instance sees of the gateway. */
export function driverContext(args: {
  connection: string;
  site: string;
  clock: Clock;
  log: Logger;
  dataDir: string;
  ingestor: Ingestor;
  metrics: GatewayMetrics;
  devices: DeviceRegistry;
  staleness: StalenessTracker;
  broker?: EmbeddedBrokerHandle;
  discover?: readonly DiscoverConfig[];
}): DriverContext {
  const { connection, metrics, ingestor, devices, staleness, clock } = args;
  const driverMetrics: DriverMetrics = {
    pollLatency: (_device, seconds) => metrics.pollSeconds.observe({ connection }, seconds),
    linkError: (kind) => metrics.linkErrors.inc({ connection, kind }),
    messages: (n = 1) => metrics.driverMessages.inc({ connection }, n),
  };
  const ctx: DriverContext = {
    site: args.site,
    clock,
    log: args.log,
    dataDir: args.dataDir,
    ingest: (batch) => {
      const now = clock.now();
      const seen = new Set<string>();
      for (const r of batch.readings ?? []) seen.add(r.device);
      for (const e of batch.events ?? []) seen.add(e.device);
      for (const d of seen) staleness.seen(d, now);
      return ingestor.submit(batch);
    },
    reject: (r) => ingestor.reject({ ...r, connection }),
    alive: (ids) => {
      const now = clock.now();
      for (const d of ids) staleness.seen(d, now);
    },
    addDevice: (found: DeviceConfig, profile: Profile) => {
      // A discovered device inherits its rule's staleness (the driver builds the rest).
      const rule = args.discover?.find((r) => r.profile === found.profile && r.class === found.class);
      const device = found.stale_after === undefined && rule?.stale_after !== undefined ? { ...found, stale_after: rule.stale_after } : found;
      const ok = devices.add(device, profile, true);
      if (ok) args.log.info({ device: device.id, class: device.class, profile: profile.id }, 'device discovered');
      return ok;
    },
    metrics: driverMetrics,
  };
  if (args.broker) ctx.embeddedBroker = args.broker;
  return ctx;
}
