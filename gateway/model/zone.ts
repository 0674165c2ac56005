/**
 * Wall-clock arithmetic in IANA time zones with Intl only (no zone tables of our own): the KPI
 * windows, the GTFS service day and the config's check of a zone name all use these.
 */

export interface LocalParts {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Monday … 6 = Sunday (ISO order, the week starts on Monday in China). */
  weekday: number;
}

const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The numeric fields Intl names as LocalParts does. */
const NUMERIC = new Set<string>(['year', 'month', 'day', 'hour', 'minute', 'second']);

/** Wall-clock fields of an instant in a zone. */
export function localParts(ts: number, tz: string): LocalParts {
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(tz).formatToParts(new Date(ts))) {
    if (p.type === 'weekday') out.weekday = WEEKDAYS.indexOf(p.value);
    else if (NUMERIC.has(p.type)) out[p.type as Exclude<keyof LocalParts, 'weekday'>] = Number(p.value);
  }
  return out;
}

/** Offset of the zone from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
export function zoneOffset(ts: number, tz: string): number {
  const whole = Math.floor(ts / 1000) * 1000;
  const p = localParts(whole, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** The instant a local wall time names (fields may overflow: month 13 is January next year). */
export function zonedToUtc(year: number, month: number, day = 1, hour = 0, minute = 0, tz = 'Asia/Shanghai'): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - zoneOffset(wall, tz);
  const second = wall - zoneOffset(first, tz);
  return second;
}

/** What is wrong with a zone name Intl does not know (`Asia/Shanghai` is fine), or undefined. */
export function timeZoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}" (use an IANA name such as Asia/Shanghai)`;
  }
}
