import type { CounterFacts } from '../pipeline/counters.js';
import { wrapOf } from './facts.js';
import type { ResolvedSite, SeriesFacts } from './types.js';

/**
 * The one place device facts leave the resolved site for the pipeline and the KPIs: what a
 * device or its profile declares about a series (counter maximum, scale, register range, sign).
 * A device found at run time (MQTT discovery) declares nothing.
 */
export class SiteFacts {
  constructor(private readonly site: ResolvedSite) {}

  series(device: string, metric: string): SeriesFacts | undefined {
    return this.site.devices.get(device)?.series.get(metric);
  }

  /** For the normaliser's counter check. */
  counter(device: string, metric: string): CounterFacts | undefined {
    const f = this.series(device, metric);
    if (!f) return undefined;
    return { max: f.counterMax?.catalog, scale: f.scale, rawRange: f.rawRange };
  }

  /** For the KPIs: where a counter wraps, in catalog units (declared, else the register's range × scale). */
  wrapOf(device: string, metric: string): number | undefined {
    return wrapOf(this.series(device, metric));
  }
}
