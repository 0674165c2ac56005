import { timeZoneProblem } from '../../gateway/model/zone.js';
import type { DriverCheckInput, DriverProblem, PointFacts } from '../core/driver.js';
import { classProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import type { GtfsRtConnection } from './connection-schema.js';
import type { GtfsRtProfile } from './profile-schema.js';
import { stopOf } from './stops.js';

/** What the GTFS-Realtime driver contributes to the one validation (gateway/site). */

export function checkGtfsRtProfile(p: Loaded<GtfsRtProfile>): DriverProblem[] {
  const out = classProblems(p.classes);
  p.classes.forEach((c, i) => {
    if (c !== 'transit_stop') out.push({ path: ['classes', i], message: `a GTFS-Realtime board reports transit_stop values, not ${c}` });
  });
  return out;
}

export function checkGtfsRt(input: DriverCheckInput<GtfsRtConnection, Loaded<GtfsRtProfile>>): DriverProblem[] {
  const out: DriverProblem[] = [];
  for (const { index, connection: c } of input.connections) {
    const at = (...p: (string | number)[]) => ['connections', index, ...p];
    const zone = timeZoneProblem(c.timezone);
    if (zone) out.push({ path: at('timezone'), message: zone });
    if (c.poll < 5000) out.push({ path: at('poll'), message: 'poll at most every 5s: agencies rate-limit their feeds (30s is usual)' });
    if (c.timeout >= c.poll) out.push({ path: at('timeout'), message: 'must be shorter than poll' });
    if (c.stale_after < c.poll) out.push({ path: at('stale_after'), message: 'must not be shorter than poll (every feed would be stale)' });
    for (const [k, v] of Object.entries(c.headers)) if (/[\r\n]/.test(k + v)) out.push({ path: at('headers', k), message: 'a header may not hold a line break' });
  }
  for (const d of input.devices) {
    if (stopOf(d.config).stops.length === 0) out.push({ path: ['devices', d.index, 'options', 'stop_id'], message: 'a transit stop names its GTFS stop ids (options.stop_id, comma separated)' });
  }
  for (const r of input.discover) out.push({ path: ['discover', r.index], message: 'GTFS-Realtime stops are configured as devices, not discovered' });
  return out;
}

export function gtfsRtPointFacts(p: Loaded<GtfsRtProfile>): ReadonlyMap<string, PointFacts> {
  return new Map(p.metrics.map((m) => [m, m === 'service_status' ? {} : { unit: 's' }]));
}
