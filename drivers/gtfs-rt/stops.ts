import type { DeviceConfig } from '../../gateway/model/site-config.js';
import type { BoardStop } from './board.js';

/**
 * A device's stops and lines: `options.stop_id` lists the GTFS stop ids it stands for (comma
 * separated: both sides of the road, a station's platforms), `options.routes` the route ids it
 * shows (default: every route calling there).
 */
export function stopOf(d: DeviceConfig): BoardStop {
  return { stops: list(d.options['stop_id']), routes: list(d.options['routes']) };
}

const list = (v: string | number | boolean | undefined): string[] =>
  v === undefined || typeof v === 'boolean'
    ? []
    : String(v)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
