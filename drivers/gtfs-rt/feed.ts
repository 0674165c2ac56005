import { createRequire } from 'node:module';
import type GtfsRealtimeBindings from 'gtfs-realtime-bindings';

/**
 * A GTFS-Realtime FeedMessage, decoded by the GTFS-Realtime project's own bindings and reduced
 * to what departure boards need. Everything from the wire is checked: a body over the size limit
 * is refused before decoding, a body that is not a FeedMessage, lacks the required header or holds
 * more entities than allowed is refused whole (with a code), so a bad feed never half-applies.
 */

/**
 * The bindings (protobufjs and the generated classes) load on the first feed, not when the
 * driver registry is imported: a gateway without a GTFS-Realtime connection never pays for them.
 */
let bindings: typeof GtfsRealtimeBindings.transit_realtime | undefined;
function realtime(): typeof GtfsRealtimeBindings.transit_realtime {
  bindings ??= (createRequire(import.meta.url)('gtfs-realtime-bindings') as typeof GtfsRealtimeBindings).transit_realtime;
  return bindings;
}

export class FeedError extends Error {
  constructor(
    readonly code: 'FEED_TOO_LARGE' | 'FEED_MALFORMED' | 'FEED_TOO_MANY_ENTITIES',
    message: string,
  ) {
    super(message);
  }
}

export interface StopUpdate {
  seq?: number;
  stop?: string;
  /** Predicted departure (else arrival), epoch ms, when the feed gives a time. */
  time?: number;
  /** Delay in s, when the feed gives one. */
  delay?: number;
  skipped: boolean;
  noData: boolean;
}

export interface TripRealtime {
  trip: string;
  route?: string;
  /** YYYYMMDD: which day's run of the trip this is (absent: the run nearest now). */
  startDate?: string;
  cancelled: boolean;
  /** A trip-level delay (s), for stops no stop_time_update reaches. */
  delay?: number;
  updates: StopUpdate[];
}

export interface AlertRealtime {
  id: string;
  effect: string;
  cause: string;
  header: string;
  routes: string[];
  stops: string[];
  /** Active periods in epoch ms (empty: always). */
  periods: { start?: number; end?: number }[];
}

export interface DecodedFeed {
  /** Header timestamp in epoch ms (when the producer says the feed's content is from). */
  ts?: number;
  trips: TripRealtime[];
  alerts: AlertRealtime[];
}

/** protobufjs puts absent optional fields' defaults on the prototype: only own properties were on the wire. */
const has = (o: object | null | undefined, k: string): boolean => !!o && Object.hasOwn(o, k);
const num = (v: number | { toNumber(): number } | null | undefined): number | undefined => (v === null || v === undefined ? undefined : typeof v === 'number' ? v : v.toNumber());
/** Strings from the wire are cut to this many characters (ids, headers) before anything keeps them. */
const MAX_TEXT = 200;
const text = (s: string | null | undefined): string | undefined => (s ? s.slice(0, MAX_TEXT) : undefined);

export function decodeFeed(body: Uint8Array, limits: { maxBytes: number; maxEntities: number }, lang = 'zh'): DecodedFeed {
  const rt = realtime();
  if (body.byteLength > limits.maxBytes) throw new FeedError('FEED_TOO_LARGE', `${body.byteLength} bytes is over the ${limits.maxBytes}-byte limit`);
  let msg: GtfsRealtimeBindings.transit_realtime.FeedMessage;
  try {
    msg = rt.FeedMessage.decode(body);
  } catch (err) {
    throw new FeedError('FEED_MALFORMED', `not a GTFS-Realtime FeedMessage: ${(err as Error).message}`);
  }
  if (!msg.header?.gtfsRealtimeVersion) throw new FeedError('FEED_MALFORMED', 'the feed header has no gtfs_realtime_version');
  if (msg.entity.length > limits.maxEntities) throw new FeedError('FEED_TOO_MANY_ENTITIES', `${msg.entity.length} entities is over the limit of ${limits.maxEntities}`);
  const ts = has(msg.header, 'timestamp') ? num(msg.header.timestamp) : undefined;
  const out: DecodedFeed = { ...(ts ? { ts: ts * 1000 } : {}), trips: [], alerts: [] };
  for (const e of msg.entity) {
    if (e.isDeleted) continue;
    const tu = e.tripUpdate;
    const tripId = tu?.trip?.tripId;
    if (tu && tripId) {
      const d = tu.trip;
      const cancelled = d.scheduleRelationship === rt.TripDescriptor.ScheduleRelationship.CANCELED;
      const updates: StopUpdate[] = (tu.stopTimeUpdate ?? []).map((u) => {
        const ev = has(u, 'departure') ? u.departure : has(u, 'arrival') ? u.arrival : undefined;
        const time = has(ev, 'time') ? num(ev?.time) : undefined;
        const seq = has(u, 'stopSequence') ? (u.stopSequence ?? undefined) : undefined;
        const stop = text(u.stopId);
        const rel = u.scheduleRelationship ?? 0;
        return {
          ...(seq !== undefined && seq !== null ? { seq } : {}),
          ...(stop ? { stop } : {}),
          ...(time ? { time: time * 1000 } : {}),
          ...(has(ev, 'delay') && typeof ev?.delay === 'number' ? { delay: ev.delay } : {}),
          skipped: rel === rt.TripUpdate.StopTimeUpdate.ScheduleRelationship.SKIPPED,
          noData: rel === rt.TripUpdate.StopTimeUpdate.ScheduleRelationship.NO_DATA,
        };
      });
      out.trips.push({
        trip: tripId.slice(0, MAX_TEXT),
        ...(d.routeId ? { route: text(d.routeId) } : {}),
        ...(d.startDate && /^\d{8}$/.test(d.startDate) ? { startDate: d.startDate } : {}),
        cancelled,
        ...(has(tu, 'delay') && typeof tu.delay === 'number' ? { delay: tu.delay } : {}),
        updates,
      });
    }
    const al = e.alert;
    if (al) {
      const tr = al.headerText?.translation ?? [];
      const header = tr.find((t) => t.language === lang) ?? tr.find((t) => !t.language) ?? tr[0];
      out.alerts.push({
        id: e.id.slice(0, MAX_TEXT),
        effect: rt.Alert.Effect[al.effect ?? rt.Alert.Effect.UNKNOWN_EFFECT] ?? 'UNKNOWN_EFFECT',
        cause: rt.Alert.Cause[al.cause ?? rt.Alert.Cause.UNKNOWN_CAUSE] ?? 'UNKNOWN_CAUSE',
        header: text(header?.text) ?? '',
        routes: (al.informedEntity ?? []).map((s) => text(s.routeId ?? s.trip?.routeId)).filter((s): s is string => !!s),
        stops: (al.informedEntity ?? []).map((s) => text(s.stopId)).filter((s): s is string => !!s),
        periods: (al.activePeriod ?? []).map((p) => {
          const start = has(p, 'start') ? num(p.start) : undefined;
          const end = has(p, 'end') ? num(p.end) : undefined;
          return { ...(start ? { start: start * 1000 } : {}), ...(end ? { end: end * 1000 } : {}) };
        }),
      });
    }
  }
  return out;
}

/** An alert is active at `now` when it has no period or one period holds `now`. */
export function alertActive(a: AlertRealtime, now: number): boolean {
  return a.periods.length === 0 || a.periods.some((p) => (p.start ?? -Infinity) <= now && now < (p.end ?? Infinity));
}
