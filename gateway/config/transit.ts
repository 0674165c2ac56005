import { z } from 'zod';
import { slug, strict } from '../model/zod-helpers.js';

/**
 * The `transit:` block: the 10-minute transit circle (以实现10分钟到达交通站点为目标) and shared
 * parking (共享停车). Buildings (households, entrance), the stops serving the community (lines,
 * mode), walking paths where they are known; elsewhere the straight line from entrance to stop
 * times `detour_factor`, at `walking_speed`.
 */

const place = strict({ lat: z.number().min(-90).max(90), lon: z.number().min(-180).max(180) });

const building = strict({
  id: z.string().min(1),
  name: z.string().optional(),
  households: z.number().int().min(0),
  /** The entrance residents walk out of (a building with several: the one towards the stops). */
  entrance: place,
});

export const TRANSIT_MODES = ['bus', 'brt', 'tram', 'metro', 'rail', 'ferry', 'coach', 'other'] as const;

const stop = strict({
  id: slug,
  name: z.string().min(1),
  location: place,
  /** Lines calling at the stop; a stop without lines does not count for access. */
  lines: z.array(z.string().min(1)).default([]),
  mode: z.enum(TRANSIT_MODES).default('bus'),
  /** Devices of class transit_stop (GTFS-Realtime departure boards) showing this stop's departures. */
  devices: z.array(slug).default([]),
});

const walkingPath = strict({
  building: z.string().min(1),
  stop: slug,
  /** Walking path length in metres (from a map or a survey), instead of the straight line times the detour factor. */
  length: z.number().positive(),
});

const DAY_NAMES = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const hhmm = z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, 'a local time "HH:MM" (24:00 is the end of the day)');

const sharedParking = strict({
  id: slug,
  name: z.string().optional(),
  /** The parking_space devices shared with the public: by id, or all with a tag. */
  spaces: z.union([z.array(slug).min(1), strict({ tag: z.string(), value: z.string() })]),
  /** When they are open to the public (site time zone); a window past midnight is two windows. */
  windows: z
    .array(strict({ days: z.array(z.enum(DAY_NAMES)).min(1).default([...DAY_NAMES]), from: hhmm, to: hhmm }))
    .min(1),
});

export const transitSchema = strict({
  /** m/s: 1.2 is the pedestrian speed of common planning practice (about 4.3 km/h; older residents walk slower). */
  walking_speed: z.number().positive().max(3).default(1.2),
  /** Walking path length over straight-line distance where no path is given: 1.3 is usual for a grid of streets. */
  detour_factor: z.number().min(1).max(5).default(1.3),
  buildings: z.array(building).default([]),
  stops: z.array(stop).default([]),
  walking_paths: z.array(walkingPath).default([]),
  shared_parking: z.array(sharedParking).default([]),
});

export type TransitConfig = z.infer<typeof transitSchema>;
export const TRANSIT_DAYS = DAY_NAMES;

/** Cross-checks of the block against the devices (paths from the config root). */
export function transitProblems(t: TransitConfig, devices: ReadonlyMap<string, { class: string }>): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const at = (...p: (string | number)[]) => ['transit', ...p];
  const buildings = new Set<string>();
  t.buildings.forEach((b, i) => {
    if (buildings.has(b.id)) out.push({ path: at('buildings', i, 'id'), message: `duplicate building id "${b.id}"` });
    buildings.add(b.id);
  });
  const stops = new Set<string>();
  t.stops.forEach((s, i) => {
    if (stops.has(s.id)) out.push({ path: at('stops', i, 'id'), message: `duplicate stop id "${s.id}"` });
    stops.add(s.id);
    // A board that is not configured (yet) is no error: the stop still counts for access.
    s.devices.forEach((d, k) => {
      const dev = devices.get(d);
      if (dev && dev.class !== 'transit_stop') out.push({ path: at('stops', i, 'devices', k), message: `device "${d}" is a ${dev.class}, not a transit_stop` });
    });
  });
  const pairs = new Set<string>();
  t.walking_paths.forEach((p, i) => {
    if (!buildings.has(p.building)) out.push({ path: at('walking_paths', i, 'building'), message: `no building "${p.building}" in transit.buildings` });
    if (!stops.has(p.stop)) out.push({ path: at('walking_paths', i, 'stop'), message: `no stop "${p.stop}" in transit.stops` });
    const k = `${p.building}\u0000${p.stop}`;
    if (pairs.has(k)) out.push({ path: at('walking_paths', i), message: `a second path from building ${p.building} to stop ${p.stop}` });
    pairs.add(k);
  });
  t.shared_parking.forEach((g, i) => {
    if (Array.isArray(g.spaces))
      g.spaces.forEach((d, k) => {
        // A space missing here may be discovered at run time (LoRaWAN sensors usually are).
        const dev = devices.get(d);
        if (dev && dev.class !== 'parking_space') out.push({ path: at('shared_parking', i, 'spaces', k), message: `device "${d}" is a ${dev.class}, not a parking_space` });
      });
    g.windows.forEach((w, k) => {
      if (w.from >= w.to) out.push({ path: at('shared_parking', i, 'windows', k), message: `"from" (${w.from}) must be before "to" (${w.to}); a window past midnight is two windows` });
    });
  });
  return out;
}
