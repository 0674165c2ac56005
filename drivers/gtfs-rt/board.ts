import { alertActive, type AlertRealtime, type DecodedFeed, type TripRealtime } from './feed.js';
import { serviceDay } from './service-day.js';
import { runsOn, type GtfsCall, type GtfsSchedule } from './static-gtfs.js';

/**
 * A stop's departure board, pure: the static schedule's calls at the stop on the service days
 * around now, each moved by the realtime feed as GTFS-Realtime says (an update at the stop, else
 * the delay of the nearest earlier stop of the trip, else the trip's own delay; a trip the feed
 * does not mention runs as scheduled), or cancelled / skipped.
 */

export type DepartureStatus = 'scheduled' | 'cancelled' | 'skipped';

export interface Departure {
  key: string;
  trip: string;
  route: string;
  routeName: string;
  headsign?: string;
  stop: string;
  serviceDate: string;
  scheduled: number;
  /** Predicted time (epoch ms): the scheduled one moved by the delay. */
  time: number;
  /** Delay in s when the feed says something about this call (or its trip). */
  delay?: number;
  status: DepartureStatus;
}

export interface BoardStop {
  /** GTFS stop ids the device stands for (a stop's platforms or both sides of a road). */
  stops: readonly string[];
  /** Only these routes (empty: all). */
  routes: readonly string[];
}

export function indexFeed(feed: DecodedFeed | undefined): Map<string, TripRealtime[]> {
  const m = new Map<string, TripRealtime[]>();
  for (const t of feed?.trips ?? []) {
    const list = m.get(t.trip);
    if (list) list.push(t);
    else m.set(t.trip, [t]);
  }
  return m;
}

/** Departures at the device's stops with a scheduled time in [from, to), in predicted-time order. */
export function departures(s: GtfsSchedule, tz: string, stop: BoardStop, rt: ReadonlyMap<string, TripRealtime[]>, from: number, to: number): Departure[] {
  const out: Departure[] = [];
  // Trips after midnight belong to the day before (times past 24:00:00); a window may span two days.
  for (let d = -1; d <= 1; d++) {
    const day = serviceDay(tz, from, d);
    for (const stopId of stop.stops) {
      for (const c of s.calls.get(stopId) ?? []) {
        const scheduled = day.zero + c.time * 1000;
        if (scheduled < from || scheduled >= to) continue;
        const trip = s.trips.get(c.trip);
        if (!trip || !runsOn(s, trip.service, day.date, day.weekday)) continue;
        if (stop.routes.length && !stop.routes.includes(trip.route)) continue;
        out.push(apply(s, c, { key: `${day.date}/${c.trip}/${c.stop}/${c.seq}`, trip: c.trip, route: trip.route, routeName: s.routes.get(trip.route)?.name ?? trip.route, ...(trip.headsign ? { headsign: trip.headsign } : {}), stop: c.stop, serviceDate: day.date, scheduled, time: scheduled, status: 'scheduled' }, rt.get(c.trip)));
      }
    }
  }
  return out.sort((a, b) => a.time - b.time || a.key.localeCompare(b.key));
}

function apply(s: GtfsSchedule, c: GtfsCall, dep: Departure, runs: TripRealtime[] | undefined): Departure {
  const tr = runs?.find((r) => r.startDate === dep.serviceDate) ?? runs?.find((r) => r.startDate === undefined);
  if (!tr) return dep;
  if (tr.cancelled) return { ...dep, status: 'cancelled' };
  const seqOf = (u: { seq?: number; stop?: string }) => u.seq ?? (u.stop !== undefined ? s.tripStops.get(c.trip)?.get(u.stop) : undefined);
  const own = tr.updates.find((u) => (u.seq !== undefined ? u.seq === c.seq : u.stop === c.stop));
  if (own?.skipped) return { ...dep, status: 'skipped' };
  if (own && !own.noData) {
    if (own.time !== undefined) return { ...dep, time: own.time, delay: Math.round((own.time - dep.scheduled) / 1000) };
    if (own.delay !== undefined) return { ...dep, time: dep.scheduled + own.delay * 1000, delay: own.delay };
  }
  // Propagation: the delay of the nearest earlier stop that states one.
  let best: { seq: number; delay: number } | undefined;
  for (const u of tr.updates) {
    const q = seqOf(u);
    if (q === undefined || q >= c.seq || u.skipped || u.noData || u.delay === undefined) continue;
    if (!best || q > best.seq) best = { seq: q, delay: u.delay };
  }
  if (best && !(own?.noData ?? false)) return { ...dep, time: dep.scheduled + best.delay * 1000, delay: best.delay };
  if (tr.delay !== undefined) return { ...dep, time: dep.scheduled + tr.delay * 1000, delay: tr.delay };
  return dep;
}

export type ServiceStatus = 'normal' | 'delayed' | 'disrupted' | 'no_service';

export interface BoardState {
  next?: Departure;
  following?: Departure;
  status: ServiceStatus;
  alerts: AlertRealtime[];
}

/**
 * What the stop shows at `now`: the next two departures and the service status. `disrupted`: an
 * active alert names the stop or one of its lines, or a departure due before the next one that
 * runs was cancelled (a gap in service now, not a cancellation hours away).
 */
export function boardAt(list: readonly Departure[], alerts: readonly AlertRealtime[], stop: BoardStop, routesAt: ReadonlySet<string>, now: number, o: { delayedAfter: number }): BoardState {
  const upcoming = list.filter((d) => d.status === 'scheduled' && d.time >= now);
  const mine = alerts.filter((a) => alertActive(a, now) && (a.stops.some((x) => stop.stops.includes(x)) || a.routes.some((r) => routesAt.has(r) && (stop.routes.length === 0 || stop.routes.includes(r)))));
  const [next, following] = upcoming;
  const gap = next !== undefined && list.some((d) => d.status !== 'scheduled' && d.scheduled >= now && d.scheduled < next.time);
  const status: ServiceStatus = !next ? 'no_service' : mine.length > 0 || gap ? 'disrupted' : (next.delay ?? 0) * 1000 >= o.delayedAfter ? 'delayed' : 'normal';
  return { ...(next ? { next } : {}), ...(following ? { following } : {}), status, alerts: mine };
}
