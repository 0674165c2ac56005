import { forkRng } from '../transport/rng.js';
import type { TransitScenario } from './schema.js';

/**
 * The simulated agency's timetable, pure and seeded: every line's trips of a day at the
 * community's stop (each trip also calls at an origin stop 10 minutes before), each trip's delay,
 * and which are cancelled. The static GTFS files and the realtime feed are both written from it,
 * so the ground truth (departures scheduled, ran, cancelled) is exact.
 */

export interface SimTrip {
  id: string;
  line: string;
  stop: string;
  /** Seconds after the service day's midnight at the community's stop. */
  time: number;
  delay: number;
  cancelled: boolean;
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
const clock = (s: number) => `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;

export function timetable(sc: TransitScenario, seed: number): SimTrip[] {
  const cancelled = new Set(sc.cancel);
  const out: SimTrip[] = [];
  for (const l of sc.lines) {
    const rng = forkRng(seed, `transit:${l.id}`);
    // A night line whose last trip is before its first runs past midnight (GTFS times past 24:00).
    const last = minutes(l.last) + (minutes(l.last) < minutes(l.first) ? 24 * 60 : 0);
    for (let t = minutes(l.first) * 60; t <= last * 60; t += Math.round(l.headway / 1000)) {
      const hhmm = clock(t).slice(0, 5);
      const late = rng() >= l.on_time_share;
      // Delays in whole 10 s steps, as agencies' feeds usually give them.
      const delay = late ? Math.round((rng() * l.delay_max) / 10_000) * 10 : 0;
      out.push({ id: `${l.id}-${hhmm.replace(':', '')}`, line: l.id, stop: l.stop, time: t, delay, cancelled: cancelled.has(`${l.id}@${hhmm}`) });
    }
  }
  return out.sort((a, b) => a.time - b.time || a.id.localeCompare(b.id));
}

/** The static GTFS files of the simulated agency (every day is a service day). */
export function staticFiles(sc: TransitScenario, trips: readonly SimTrip[], at: { latitude: number; longitude: number; timezone: string }): Record<string, string> {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lat = (north: number) => (at.latitude + north / 111_195).toFixed(6);
  const lon = (east: number) => (at.longitude + east / (111_195 * Math.cos((at.latitude * Math.PI) / 180))).toFixed(6);
  const stops = sc.stops.flatMap((s) => [`${q(s.id)},${q(s.name)},${lat(s.north)},${lon(s.east)}`, `${q(`${s.id}-O`)},${q(`${s.name} (origin)`)},${lat(s.north + 3000)},${lon(s.east)}`]);
  const lines = new Map(sc.lines.map((l) => [l.id, l]));
  return {
    'agency.txt': `agency_id,agency_name,agency_url,agency_timezone\nSIM,Simulated transit,https://example.invalid,${sc.timezone ?? at.timezone}\n`,
    // A byte order mark, as spreadsheet-exported feeds have.
    'stops.txt': `\uFEFFstop_id,stop_name,stop_lat,stop_lon\n${stops.join('\n')}\n`,
    'routes.txt': `route_id,agency_id,route_short_name,route_long_name,route_type\n${sc.lines.map((l) => `${q(l.id)},SIM,${q(l.name ?? l.id)},,${l.route_type}`).join('\n')}\n`,
    'trips.txt': `route_id,service_id,trip_id,trip_headsign\r\n${trips.map((t) => `${q(t.line)},DAILY,${q(t.id)},${q(lines.get(t.line)?.headsign ?? '')}`).join('\r\n')}\r\n`,
    'stop_times.txt': `trip_id,arrival_time,departure_time,stop_id,stop_sequence\n${trips.map((t) => `${q(t.id)},${clock(t.time - 600)},${clock(t.time - 600)},${q(`${t.stop}-O`)},1\n${q(t.id)},${clock(t.time)},${clock(t.time)},${q(t.stop)},2`).join('\n')}\n`,
    'calendar.txt': 'service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\nDAILY,1,1,1,1,1,1,1,20200101,20991231\n',
  };
}
