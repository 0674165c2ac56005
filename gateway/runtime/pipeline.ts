import { join } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { commissionedOf } from '../model/commissioned.js';
import { CounterState } from '../pipeline/counters.js';
import { Ingestor } from '../pipeline/ingest.js';
import { Dedupe } from '../pipeline/normalise.js';
import { limitsOf, Plausibility } from '../pipeline/plausibility.js';
import { loadSiteSecret, Pseudonymiser } from '../pipeline/pseudonymise.js';
import type { SiteFacts } from '../site/index.js';
import type { Store } from '../store/store.js';
import type { DeviceRegistry } from './devices.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * The pipeline as the gateway runs it: the bounded ingest queue committing to the store, its
 * normaliser fed by the device registry (classes, options), the resolved site's device facts
 * (counter maxima; read on every call, so a reload's new site applies at once) and the site
 * secret for pseudonyms.
 */
export function buildIngestor(o: {
  config: Readonly<GatewayConfig>;
  store: Store;
  metrics: GatewayMetrics;
  log: Logger;
  clock: Clock;
  dataDir: string;
  env?: NodeJS.ProcessEnv | undefined;
  devices: DeviceRegistry;
  facts: () => SiteFacts;
}): Ingestor {
  const cfg = o.config;
  const secret = loadSiteSecret({
    envName: cfg.privacy.secret_env,
    file: cfg.privacy.secret_file ?? join(o.dataDir, 'site-secret'),
    ...(o.env ? { env: o.env } : {}),
    log: o.log,
  });
  return new Ingestor({
    store: o.store,
    metrics: o.metrics,
    log: o.log.child({ part: 'ingest' }),
    maxRows: cfg.store.batch.max_rows,
    maxDelayMs: cfg.store.batch.max_delay,
    busyDelayMs: cfg.store.batch.busy_delay,
    queueMax: cfg.pipeline.queue_max,
    normalise: {
      site: cfg.site.id,
      deviceClass: (id) => o.devices.classOf(id),
      counters: new CounterState(),
      counterFacts: (device, metric) => o.facts().counter(device, metric),
      dedupe: new Dedupe(),
      pseudo: new Pseudonymiser(secret),
      now: () => o.clock.now(),
      plausibility: new Plausibility({ limits: (id) => limitsOf(o.devices.get(id)?.config.options) }),
      history: o.store.history(),
      commissioned: (id) => commissionedOf(o.devices.get(id)?.config.options),
    },
  });
}
