import { CsvError, gtfsTime, parseCsv } from './csv.js';

/**
 * The part of a static GTFS feed the community's stops need: the stops themselves, the routes and
 * trips that call at them, when each trip calls (stop_times), every stop sequence of those trips
 * (so a realtime delay can be carried forward from an earlier stop), and on which days each
 * service runs (calendar.txt and calendar_dates.txt). Rows of other stops are dropped as they are
 * read.
 */

export interface GtfsCall {
  trip: string;
  stop: string;
  seq: number;
  /** Departure (else arrival) in seconds from the service day's noon minus 12 h; may pass 86 400. */
  time: number;
}

export interface GtfsSchedule {
  timezone?: string;
  stops: Map<string, { name: string; lat?: number; lon?: number }>;
  routes: Map<string, { name: string; type?: number }>;
  trips: Map<string, { route: string; service: string; headsign?: string }>;
  /** Calls at the stops of interest, by stop, in time order. */
  calls: Map<string, GtfsCall[]>;
  /** Every stop of a trip that calls at a stop of interest: stop id → sequence. */
  tripStops: Map<string, Map<string, number>>;
  calendar: Map<string, { days: boolean[]; start: string; end: string }>;
  /** calendar_dates.txt: service → date (YYYYMMDD) → added (1) or removed (2). */
  exceptions: Map<string, Map<string, 1 | 2>>;
}

export class GtfsStaticError extends Error {
  readonly code = 'GTFS_STATIC_INVALID';
}

/** Reads one file of the feed; undefined when the feed has no such file. */
export type GtfsReader = (file: string) => Promise<string | undefined>;

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

export async function loadSchedule(read: GtfsReader, stopIds: ReadonlySet<string>): Promise<GtfsSchedule> {
  const need = async (f: string) => {
    const t = await read(f);
    if (t === undefined) throw new GtfsStaticError(`the static feed has no ${f}`);
    return t;
  };
  const s: GtfsSchedule = { stops: new Map(), routes: new Map(), trips: new Map(), calls: new Map(), tripStops: new Map(), calendar: new Map(), exceptions: new Map() };
  const each = (file: string, text: string, fn: (r: Readonly<Record<string, string>>, line: number) => void) => {
    try {
      parseCsv(text, fn);
    } catch (err) {
      if (err instanceof CsvError) throw new GtfsStaticError(`${file}: ${err.message}`);
      throw err;
    }
  };
  const agency = await read('agency.txt');
  if (agency !== undefined) each('agency.txt', agency, (r) => (s.timezone ??= r['agency_timezone'] || undefined));

  each('stops.txt', await need('stops.txt'), (r) => {
    const id = r['stop_id'];
    if (!id) return;
    const lat = Number(r['stop_lat']);
    const lon = Number(r['stop_lon']);
    s.stops.set(id, { name: r['stop_name'] ?? id, ...(r['stop_lat'] && Number.isFinite(lat) ? { lat } : {}), ...(r['stop_lon'] && Number.isFinite(lon) ? { lon } : {}) });
  });
  for (const id of stopIds) if (!s.stops.has(id)) throw new GtfsStaticError(`stops.txt has no stop_id "${id}"`);

  const stopTimes = await need('stop_times.txt');
  // Pass 1: the trips that call at a stop of interest, and those calls.
  const wanted = new Set<string>();
  each('stop_times.txt', stopTimes, (r, line) => {
    const stop = r['stop_id'] ?? '';
    if (!stopIds.has(stop)) return;
    const trip = r['trip_id'] ?? '';
    const time = gtfsTime(r['departure_time'] || r['arrival_time'] || '');
    const seq = Number(r['stop_sequence']);
    // A timepoint without a time (interpolated by the producer) cannot be shown as a departure.
    if (!trip || time === undefined || !Number.isInteger(seq)) {
      if (!trip || !Number.isInteger(seq)) throw new GtfsStaticError(`stop_times.txt line ${line}: trip_id and an integer stop_sequence are required`);
      return;
    }
    wanted.add(trip);
    let list = s.calls.get(stop);
    if (!list) s.calls.set(stop, (list = []));
    list.push({ trip, stop, seq, time });
  });
  for (const list of s.calls.values()) list.sort((a, b) => a.time - b.time);
  // Pass 2: every stop of those trips, for delay propagation by stop id.
  each('stop_times.txt', stopTimes, (r) => {
    const trip = r['trip_id'] ?? '';
    if (!wanted.has(trip)) return;
    let m = s.tripStops.get(trip);
    if (!m) s.tripStops.set(trip, (m = new Map()));
    m.set(r['stop_id'] ?? '', Number(r['stop_sequence']));
  });

  each('trips.txt', await need('trips.txt'), (r) => {
    const id = r['trip_id'] ?? '';
    if (!wanted.has(id)) return;
    s.trips.set(id, { route: r['route_id'] ?? '', service: r['service_id'] ?? '', ...(r['trip_headsign'] ? { headsign: r['trip_headsign'] } : {}) });
  });
  const routes = new Set([...s.trips.values()].map((t) => t.route));
  each('routes.txt', await need('routes.txt'), (r) => {
    const id = r['route_id'] ?? '';
    if (!routes.has(id)) return;
    const type = Number(r['route_type']);
    s.routes.set(id, { name: r['route_short_name'] || r['route_long_name'] || id, ...(r['route_type'] && Number.isInteger(type) ? { type } : {}) });
  });

  const calendar = await read('calendar.txt');
  const dates = await read('calendar_dates.txt');
  if (calendar === undefined && dates === undefined) throw new GtfsStaticError('the static feed has neither calendar.txt nor calendar_dates.txt');
  if (calendar !== undefined)
    each('calendar.txt', calendar, (r) => {
      s.calendar.set(r['service_id'] ?? '', { days: DAYS.map((d) => r[d] === '1'), start: r['start_date'] ?? '', end: r['end_date'] ?? '' });
    });
  if (dates !== undefined)
    each('calendar_dates.txt', dates, (r) => {
      const svc = r['service_id'] ?? '';
      const t = r['exception_type'];
      if (t !== '1' && t !== '2') return;
      let m = s.exceptions.get(svc);
      if (!m) s.exceptions.set(svc, (m = new Map()));
      m.set(r['date'] ?? '', t === '1' ? 1 : 2);
    });
  return s;
}

/** Whether `service` runs on `date` (YYYYMMDD; weekday 0 = Sunday). */
export function runsOn(s: GtfsSchedule, service: string, date: string, weekday: number): boolean {
  const ex = s.exceptions.get(service)?.get(date);
  if (ex !== undefined) return ex === 1;
  const c = s.calendar.get(service);
  return c !== undefined && date >= c.start && date <= c.end && c.days[weekday] === true;
}
