import type { TransitConfig } from '../config/transit.js';
import { TRANSIT_DAYS } from '../config/transit.js';
import { ofClass, ratio, type KpiContext, type KpiValue } from './context.js';
import { localParts, zonedToUtc } from './windows.js';

/**
 * The 10-minute transit circle and shared parking (issue 21). Access and walking time are
 * planning KPIs from the config alone (buildings, stops, paths): the same value in every window,
 * fully covered. Service availability counts the `departure` events of the transit_stop devices;
 * shared-parking utilisation reads the space sensors inside the sharing windows.
 */

/** The circle's radius: 10 minutes' walk. */
export const ACCESS_LIMIT_S = 600;
const EARTH_RADIUS_M = 6_371_008.8;

export function haversineMetres(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface BuildingWalk {
  building: string;
  households: number;
  /** Seconds to the nearest stop with a line (Infinity: none). */
  seconds: number;
  stop?: string;
}

/** Each building's walk to its nearest served stop: the configured path, else the straight line × detour. */
export function walkTimes(t: TransitConfig): BuildingWalk[] {
  const paths = new Map(t.walking_paths.map((p) => [`${p.building}\u0000${p.stop}`, p.length]));
  return t.buildings.map((b) => {
    let best: BuildingWalk = { building: b.id, households: b.households, seconds: Number.POSITIVE_INFINITY };
    for (const s of t.stops) {
      if (s.lines.length === 0) continue;
      const metres = paths.get(`${b.id}\u0000${s.id}`) ?? haversineMetres(b.entrance, s.location) * t.detour_factor;
      const seconds = metres / t.walking_speed;
      if (seconds < best.seconds) best = { ...best, seconds, stop: s.id };
    }
    return best;
  });
}

/** Buildings a scope covers: all for the site, the one a `building` tag names. */
function scoped(ctx: KpiContext, all: BuildingWalk[]): BuildingWalk[] | undefined {
  if ('site' in ctx.scope) return all;
  if ('tag' in ctx.scope && ctx.scope.tag === 'building') {
    const v = ctx.scope.value;
    return all.filter((b) => b.building === v);
  }
  return undefined;
}

function access(ctx: KpiContext, which: 'share' | 'p95'): KpiValue {
  const t = ctx.settings.transit;
  const list = t ? scoped(ctx, walkTimes(t)) : undefined;
  const households = list?.reduce((a, b) => a + b.households, 0) ?? 0;
  if (!list || households === 0) return { value: null, coverage: 0, series: [] };
  const series = ['config/transit'];
  if (which === 'share') {
    const within = list.filter((b) => b.seconds <= ACCESS_LIMIT_S).reduce((a, b) => a + b.households, 0);
    return { value: within / households, coverage: 1, series, detail: { households, within_10min: within, buildings: list.length } };
  }
  // Nearest rank over households: the walk that 95 % of households do not exceed.
  const sorted = [...list].filter((b) => b.households > 0).sort((a, b) => a.seconds - b.seconds);
  const rank = Math.ceil(0.95 * households);
  let seen = 0;
  let p95 = Number.POSITIVE_INFINITY;
  for (const b of sorted) {
    seen += b.households;
    if (seen >= rank) {
      p95 = b.seconds;
      break;
    }
  }
  if (!Number.isFinite(p95)) return { value: null, coverage: 1, series, beyond: true, detail: { households, no_stop: list.filter((b) => !Number.isFinite(b.seconds)).map((b) => b.building) } };
  return { value: p95, coverage: 1, series, detail: { households } };
}

function availability(ctx: KpiContext): KpiValue {
  const stops = new Set(ofClass(ctx, 'transit_stop').map((d) => d.id));
  const rows = ctx.events(['departure'], ctx.from, ctx.to).filter((e) => stops.has(e.device));
  const n: Record<string, number> = { ran: 0, cancelled: 0, skipped: 0 };
  for (const e of rows) {
    const status = String(e.attributes['status']);
    if (status in n) n[status] = (n[status] as number) + 1;
  }
  const { ran = 0, cancelled = 0, skipped = 0 } = n;
  const known = ran + cancelled + skipped;
  // A departure no fresh feed covered is not known to have run: it lowers coverage, not the share.
  return { value: ratio(ran, known), coverage: rows.length ? known / rows.length : 0, series: ['events/departure'], detail: { scheduled: rows.length, ran, cancelled, skipped, unknown: rows.length - known } };
}

/** The sharing windows that fall in [from, to), as instants in the site's zone. */
export function sharingIntervals(windows: TransitConfig['shared_parking'][number]['windows'], from: number, to: number, tz: string): [number, number][] {
  const out: [number, number][] = [];
  const first = localParts(from, tz);
  for (let d = 0; ; d++) {
    const dayStart = zonedToUtc(first.year, first.month, first.day + d, 0, 0, tz);
    if (dayStart >= to) break;
    const wd = TRANSIT_DAYS[localParts(dayStart + 3_600_000 * 12, tz).weekday];
    for (const w of windows) {
      if (!wd || !w.days.includes(wd)) continue;
      const [fh, fm] = w.from.split(':').map(Number);
      const [th, tm] = w.to.split(':').map(Number);
      const a = Math.max(from, zonedToUtc(first.year, first.month, first.day + d, fh ?? 0, fm ?? 0, tz));
      const b = Math.min(to, zonedToUtc(first.year, first.month, first.day + d, th ?? 0, tm ?? 0, tz));
      if (a < b) out.push([a, b]);
    }
  }
  return out;
}

function sharedUtilisation(ctx: KpiContext): KpiValue {
  const t = ctx.settings.transit;
  if (!t || t.shared_parking.length === 0) return { value: null, coverage: 0, series: [] };
  const spaces = ofClass(ctx, 'parking_space');
  const end = Math.min(ctx.to, ctx.now);
  let occupied = 0;
  let covered = 0;
  let span = 0;
  const series = new Set<string>();
  for (const g of t.shared_parking) {
    const sel = g.spaces;
    const members = Array.isArray(sel) ? spaces.filter((d) => sel.includes(d.id)) : spaces.filter((d) => d.tags[sel.tag] === sel.value);
    for (const [a, b] of sharingIntervals(g.windows, ctx.from, end, ctx.settings.tz)) {
      for (const d of members) {
        span += b - a;
        const s = ctx.reader.states(d.id, 'occupied', a, b);
        if (!s) continue;
        occupied += s.times.get('true') ?? 0;
        covered += s.coveredMs;
        series.add(`${d.id}/occupied`);
      }
    }
  }
  return { value: ratio(occupied, covered), coverage: span > 0 ? covered / span : 0, series: [...series] };
}

export const transit: Record<string, (ctx: KpiContext) => KpiValue> = {
  transit_access_10min: (ctx) => access(ctx, 'share'),
  transit_walk_time_p95: (ctx) => access(ctx, 'p95'),
  transit_service_availability: availability,
  shared_parking_utilisation: sharedUtilisation,
};
