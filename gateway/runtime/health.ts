import type { DriverHealth } from '../../drivers/core/driver.js';
import type { HealthReport } from '../api/server.js';
import type { EmbeddedBroker } from '../broker/embedded.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Ingestor } from '../pipeline/ingest.js';
import type { SinkHealth } from '../sinks/runner.js';
import { redactSecrets } from '../model/redact.js';
import type { Store } from '../store/store.js';
import type { Maintenance } from './maintenance.js';

/**
 * `/api/health`: down when the store is closed; degraded when a link is not connected, a sink is
 * not sending, or the store is over its disk cap or lost unsent data within the hour.
 */
export function healthReport(p: {
  config: Readonly<GatewayConfig>;
  uptimeMs: number;
  drivers: DriverHealth[];
  sinks: SinkHealth[];
  store: Store | undefined;
  maintenance: Maintenance | undefined;
  ingestor: Ingestor | undefined;
  broker: EmbeddedBroker | undefined;
}): HealthReport {
  const { config, drivers, sinks, store, maintenance: m } = p;
  const badLinks = drivers.some((d) => d.state !== 'connected');
  const badSinks = sinks.some((s) => s.state !== 'ok');
  const status: HealthReport['status'] = !store?.isOpen ? 'down' : badLinks || badSinks || m?.degraded ? 'degraded' : 'ok';
  return {
    status,
    site: config.site.id,
    site_name: config.site.name ?? config.site.id,
    timezone: config.site.timezone,
    uptime_s: Math.round(p.uptimeMs / 1000),
    // Drivers and sinks redact already; this is the last door before the network.
    drivers: drivers.map((d) => (d.error === undefined ? d : { ...d, error: redactSecrets(d.error) })),
    sinks: sinks.map((s) => (s.lastError === null ? s : { ...s, lastError: redactSecrets(s.lastError) })),
    store: {
      path: config.store.path,
      bytes: m?.lastSize ?? 0,
      wal_bytes: m?.lastWal ?? 0,
      checkpoint_thread: store?.checkpointer?.running ?? false,
      max_disk: config.store.max_disk,
      over_cap: m?.overCap ?? false,
      ...(m?.lastLoss ? { last_loss: { at: new Date(m.lastLoss.at).toISOString(), samples: m.lastLoss.samples, events: m.lastLoss.events } } : {}),
      ingest_queue: p.ingestor?.depth() ?? 0,
      last_seq: store?.isOpen ? store.maxSeq() : null,
    },
    ...(p.broker ? { broker: { url: redactSecrets(p.broker.url), clients: p.broker.connectedClients(), open_sockets: p.broker.openSockets() } } : {}),
  };
}
