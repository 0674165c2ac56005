import { localParts, zoneOffset } from '../../gateway/model/zone.js';

/**
 * GTFS times count from "noon minus 12 h" of the service day in the feed's time zone (midnight,
 * except on daylight-saving days). These helpers find that instant and the local date of an
 * instant, with the model's zone arithmetic (gateway/model/zone.ts).
 */

export interface ServiceDay {
  /** YYYYMMDD */
  date: string;
  weekday: number;
  /** Epoch ms that GTFS time 00:00:00 of this day stands for. */
  zero: number;
}

/** The service day `days` after the local date of `ms` (negative: before). */
export function serviceDay(tz: string, ms: number, days = 0): ServiceDay {
  const p = localParts(ms, tz);
  const noonUtc = Date.UTC(p.year, p.month - 1, p.day + days, 12);
  const noon = noonUtc - zoneOffset(noonUtc, tz);
  const q = new Date(noonUtc);
  const date = `${q.getUTCFullYear()}${String(q.getUTCMonth() + 1).padStart(2, '0')}${String(q.getUTCDate()).padStart(2, '0')}`;
  return { date, weekday: q.getUTCDay(), zero: noon - 12 * 3_600_000 };
}
