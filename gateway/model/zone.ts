/**
 * Wall-clock arithmetic in IANA time zones: the KPI windows, the GTFS service day and the
 * config's check of a zone name all use these.
 *
 * A zone's rules come from the system's own zone files (TZif, RFC 8536: /usr/share/zoneinfo, or
 * $TZDIR), the tables the C library, Go and Python's zoneinfo read: a list of transitions, and for
 * the instants after the last one the POSIX TZ rule in the file's footer. Only a zone with no
 * readable file (a system without tzdata) falls back to Intl. The reason is memory: a single
 * Intl.DateTimeFormat with a time zone makes V8 page in about 8 MB of ICU's locale and calendar
 * data from the node binary, a tenth of an idle gateway, to answer what a 561-byte file answers
 * (Asia/Shanghai). test/unit/model/zone.test.ts checks every zone against Intl's answers.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

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

/** Wall-clock fields of an instant in a zone, from Intl (a zone with no readable zone file). */
function intlParts(ts: number, tz: string): LocalParts {
  const out: LocalParts = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0, weekday: 0 };
  for (const p of formatter(tz).formatToParts(new Date(ts))) {
    if (p.type === 'weekday') out.weekday = WEEKDAYS.indexOf(p.value);
    else if (NUMERIC.has(p.type)) out[p.type as Exclude<keyof LocalParts, 'weekday'>] = Number(p.value);
  }
  return out;
}

/** Wall-clock fields of an instant in a zone. */
export function localParts(ts: number, tz: string): LocalParts {
  const rules = zoneRules(tz);
  if (!rules) return intlParts(ts, tz);
  const d = new Date(Math.floor(ts / 1000) * 1000 + rules.offsetAt(Math.floor(ts / 1000)) * 1000);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: (d.getUTCDay() + 6) % 7,
  };
}

/** Offset of the zone from UTC at an instant, in ms (Asia/Shanghai: +8 h). */
export function zoneOffset(ts: number, tz: string): number {
  const rules = zoneRules(tz);
  if (rules) return rules.offsetAt(Math.floor(ts / 1000)) * 1000;
  const whole = Math.floor(ts / 1000) * 1000;
  const p = intlParts(whole, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - whole;
}

/** The instant a local wall time names (fields may overflow: month 13 is January next year). */
export function zonedToUtc(year: number, month: number, day = 1, hour = 0, minute = 0, tz = 'Asia/Shanghai'): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - zoneOffset(wall, tz);
  const second = wall - zoneOffset(first, tz);
  return second;
}

/** What is wrong with a zone name neither the zone files nor Intl know (`Asia/Shanghai` is fine), or undefined. */
export function timeZoneProblem(tz: string): string | undefined {
  if (zoneRules(tz)) return undefined;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return undefined;
  } catch {
    return `unknown time zone "${tz}" (use an IANA name such as Asia/Shanghai)`;
  }
}

// ---- The system's zone files (TZif, RFC 8536) ----

/** A zone's offsets from UTC, in seconds, at any instant (in seconds since the epoch). */
export interface ZoneRules {
  offsetAt(unixSeconds: number): number;
}

/** Where the zone files are: $TZDIR as the process started, else the usual place. */
const ZONE_DIR = process.env['TZDIR'] || '/usr/share/zoneinfo';
/** Each name's rules once read (null: no readable zone file, Intl decides). */
const rulesCache = new Map<string, ZoneRules | null>();

/**
 * An IANA name as the zone files spell it: components that start with a capital letter
 * (`Asia/Shanghai`, `Etc/GMT+8`, `UTC`). This keeps out paths (`..`, absolute) and the files in the
 * directory that are not zones of their own (`posixrules`, `localtime`, `posix/…`, `right/…`).
 */
const ZONE_NAME = /^[A-Z][A-Za-z0-9_+-]*(?:\/[A-Z][A-Za-z0-9_+-]*)*$/;

/** The zone's rules from its file, or undefined when there is no readable, well-formed one. */
export function zoneRules(tz: string): ZoneRules | undefined {
  let rules = rulesCache.get(tz);
  if (rules === undefined) {
    rules = null;
    if (ZONE_NAME.test(tz) && tz.length <= 64) {
      try {
        rules = parseTzif(readFileSync(join(ZONE_DIR, tz))) ?? null;
      } catch {
        /* no such file, or not a zone: Intl decides */
      }
    }
    rulesCache.set(tz, rules);
  }
  return rules ?? undefined;
}

/**
 * Parses a TZif file (versions 1–4). Of a version 2+ file it reads the 64-bit data block and the
 * footer's POSIX TZ rule; a version 1 file has 32-bit times and no footer. Undefined when the
 * bytes are not a TZif file. Leap-second records are skipped: Unix time has none.
 */
export function parseTzif(buf: Buffer): ZoneRules | undefined {
  const header = (at: number) => {
    if (buf.length < at + 44 || buf.toString('latin1', at, at + 4) !== 'TZif') return undefined;
    const c = (i: number) => buf.readUInt32BE(at + 20 + 4 * i);
    return { version: buf[at + 4] ?? 0, isutcnt: c(0), isstdcnt: c(1), leapcnt: c(2), timecnt: c(3), typecnt: c(4), charcnt: c(5) };
  };
  const v1 = header(0);
  if (!v1 || v1.typecnt === 0) return undefined;
  const blockLength = (h: NonNullable<typeof v1>, timeSize: number) =>
    h.timecnt * timeSize + h.timecnt + h.typecnt * 6 + h.charcnt + h.leapcnt * (timeSize + 4) + h.isstdcnt + h.isutcnt;
  let at = 44;
  let h = v1;
  let timeSize = 4;
  if (v1.version >= 0x32) {
    const second = header(44 + blockLength(v1, 4));
    if (!second || second.typecnt === 0) return undefined;
    at = 44 + blockLength(v1, 4) + 44;
    h = second;
    timeSize = 8;
  }
  const end = at + blockLength(h, timeSize);
  if (buf.length < end) return undefined;
  const times = new Float64Array(h.timecnt);
  for (let i = 0; i < h.timecnt; i++) times[i] = timeSize === 8 ? Number(buf.readBigInt64BE(at + 8 * i)) : buf.readInt32BE(at + 4 * i);
  const idxAt = at + h.timecnt * timeSize;
  const typesAt = idxAt + h.timecnt;
  const offsets = Array.from({ length: h.typecnt }, (_, i) => buf.readInt32BE(typesAt + 6 * i));
  const typeOf = new Int32Array(h.timecnt);
  for (let i = 0; i < h.timecnt; i++) {
    const t = buf[idxAt + i] as number;
    if (t >= h.typecnt) return undefined;
    typeOf[i] = offsets[t] as number;
  }
  let tail: PosixRule | undefined;
  if (timeSize === 8) {
    const nl = buf.indexOf(0x0a, end + 1);
    if (buf[end] === 0x0a && nl > end) {
      const text = buf.toString('latin1', end + 1, nl);
      if (text) {
        tail = parsePosixTz(text);
        if (!tail) return undefined;
      }
    }
  }
  // Before the first transition: time type 0 (RFC 8536, 3.2).
  const first = offsets[0] as number;
  const last = h.timecnt ? (typeOf[h.timecnt - 1] as number) : first;
  const lastTime = h.timecnt ? (times[h.timecnt - 1] as number) : -Infinity;
  return {
    offsetAt(t: number): number {
      if (t >= lastTime) return tail ? tail.offsetAt(t) : last;
      if (h.timecnt === 0 || t < (times[0] as number)) return first;
      let lo = 0;
      let hi = h.timecnt - 1;
      // The last transition at or before t.
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if ((times[mid] as number) <= t) lo = mid;
        else hi = mid - 1;
      }
      return typeOf[lo] as number;
    },
  };
}

// ---- POSIX TZ rules (the footer of a TZif file: `CST-8`, `EST5EDT,M3.2.0,M11.1.0`) ----

interface PosixRule {
  offsetAt(unixSeconds: number): number;
}

/** A date rule of a POSIX TZ string: `Jn` (1–365, no Feb 29), `n` (0–365), or `Mm.w.d`. */
type DateRule = { kind: 'J'; day: number } | { kind: 'n'; day: number } | { kind: 'M'; month: number; week: number; weekday: number };

/**
 * Parses a POSIX TZ string as TZif footers write it (with RFC 8536's extensions: hours of a
 * transition time from -167 to 167, quoted names such as `<+08>`). Undefined when malformed.
 */
export function parsePosixTz(text: string): PosixRule | undefined {
  let i = 0;
  const name = (): boolean => {
    if (text[i] === '<') {
      const close = text.indexOf('>', i);
      if (close < 0) return false;
      i = close + 1;
      return true;
    }
    const m = /^[A-Za-z]{3,}/.exec(text.slice(i));
    if (!m) return false;
    i += m[0].length;
    return true;
  };
  /** [+-]hh[:mm[:ss]] in seconds, or undefined. */
  const time = (): number | undefined => {
    const m = /^([+-]?)(\d{1,3})(?::(\d{1,2}))?(?::(\d{1,2}))?/.exec(text.slice(i));
    if (!m) return undefined;
    i += m[0].length;
    const s = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
    return m[1] === '-' ? 0 - s : s;
  };
  const dateRule = (): DateRule | undefined => {
    let m = /^J(\d{1,3})/.exec(text.slice(i));
    if (m) {
      i += m[0].length;
      return { kind: 'J', day: Number(m[1]) };
    }
    m = /^M(\d{1,2})\.(\d)\.(\d)/.exec(text.slice(i));
    if (m) {
      i += m[0].length;
      return { kind: 'M', month: Number(m[1]), week: Number(m[2]), weekday: Number(m[3]) };
    }
    m = /^(\d{1,3})/.exec(text.slice(i));
    if (m) {
      i += m[0].length;
      return { kind: 'n', day: Number(m[1]) };
    }
    return undefined;
  };
  if (!name()) return undefined;
  const std = time();
  if (std === undefined) return undefined;
  // POSIX offsets are west of Greenwich: CST-8 is UTC+8.
  const stdOff = 0 - std; // never -0
  if (i === text.length) return { offsetAt: () => stdOff };
  if (!name()) return undefined;
  let dstOff = stdOff + 3600;
  if (text[i] !== ',' && i < text.length) {
    const d = time();
    if (d === undefined) return undefined;
    dstOff = 0 - d;
  }
  /** `,date[/time]`: the day's rule and the time of day in seconds (02:00 when not given). */
  const transition = (): { rule: DateRule; time: number } | undefined => {
    if (text[i] !== ',') return undefined; // TZif footers always spell the rules out
    i++;
    const rule = dateRule();
    if (!rule) return undefined;
    if (text[i] !== '/') return { rule, time: 7200 };
    i++;
    const t = time();
    return t === undefined ? undefined : { rule, time: t };
  };
  const start = transition();
  const end = start && transition();
  if (!start || !end || i !== text.length) return undefined;
  const { rule: startRule, time: startTime } = start;
  const { rule: endRule, time: endTime } = end;
  return {
    offsetAt(t: number): number {
      const year = new Date(t * 1000).getUTCFullYear();
      // A year's DST period, in UTC seconds; look at the neighbouring years too, since a period
      // in local time may start (southern hemisphere) in one UTC year and end in the next.
      for (const y of [year - 1, year, year + 1]) {
        // The start is given in standard time, the end in daylight time (POSIX).
        const start = ruleDay(startRule, y) + startTime - stdOff;
        const end = ruleDay(endRule, y) + endTime - dstOff;
        if (start < end) {
          if (t >= start && t < end) return dstOff;
        } else if (start > end) {
          // Southern hemisphere: DST from `start` of y to `end` of y + 1, so within y it is in
          // force before `end` and after `start`.
          const nextEnd = ruleDay(endRule, y + 1) + endTime - dstOff;
          if (t >= start && t < nextEnd) return dstOff;
        }
      }
      // All-year DST (e.g. start Jan 1 00:00, end Dec 31 24:00 plus the offsets difference).
      return stdOff;
    },
  };
}

/** Midnight (UTC seconds, local date) of the day a POSIX date rule names in `year`. */
function ruleDay(r: DateRule, year: number): number {
  const jan1 = Date.UTC(year, 0, 1) / 1000;
  if (r.kind === 'n') return jan1 + r.day * 86400;
  if (r.kind === 'J') {
    // 1–365, February 29 never counted: day 60 is March 1 in every year.
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return jan1 + (r.day - 1 + (leap && r.day >= 60 ? 1 : 0)) * 86400;
  }
  const first = Date.UTC(year, r.month - 1, 1) / 1000;
  const firstWeekday = new Date(first * 1000).getUTCDay();
  let day = 1 + ((r.weekday - firstWeekday + 7) % 7) + (r.week - 1) * 7;
  const daysInMonth = new Date(Date.UTC(year, r.month, 0)).getUTCDate();
  // Week 5 means the last such weekday of the month.
  while (day > daysInMonth) day -= 7;
  return first + (day - 1) * 86400;
}
