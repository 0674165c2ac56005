/**
 * GTFS times count from "noon minus 12 h" of the service day in the feed's time zone (midnight,
 * except on daylight-saving days). These helpers find that instant and the local date of an
 * instant, with Intl only (no time-zone tables of our own).
 */

const fmt = new Map<string, Intl.DateTimeFormat>();

function parts(tz: string, ms: number): { y: number; m: number; d: number; h: number; min: number; s: number; wd: number } {
  let f = fmt.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'short' });
    fmt.set(tz, f);
  }
  const p = Object.fromEntries(f.formatToParts(ms).map((x) => [x.type, x.value]));
  return { y: Number(p['year']), m: Number(p['month']), d: Number(p['day']), h: Number(p['hour']), min: Number(p['minute']), s: Number(p['second']), wd: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p['weekday'] ?? '') };
}

/** Offset of `tz` from UTC at `ms`, in ms. */
function offset(tz: string, ms: number): number {
  const p = parts(tz, ms);
  return Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s) - Math.floor(ms / 1000) * 1000;
}

export interface ServiceDay {
  /** YYYYMMDD */
  date: string;
  weekday: number;
  /** Epoch ms that GTFS time 00:00:00 of this day stands for. */
  zero: number;
}

/** The service day `days` after the local date of `ms` (negative: before). */
export function serviceDay(tz: string, ms: number, days = 0): ServiceDay {
  const p = parts(tz, ms);
  const noonUtc = Date.UTC(p.y, p.m - 1, p.d + days, 12);
  const noon = noonUtc - offset(tz, noonUtc);
  const q = new Date(noonUtc);
  const date = `${q.getUTCFullYear()}${String(q.getUTCMonth() + 1).padStart(2, '0')}${String(q.getUTCDate()).padStart(2, '0')}`;
  return { date, weekday: q.getUTCDay(), zero: noon - 12 * 3_600_000 };
}
