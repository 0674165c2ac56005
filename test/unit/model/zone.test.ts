import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { localParts, parsePosixTz, timeZoneProblem, zonedToUtc, zoneRules } from '../../../gateway/model/zone.js';

// The zone files' answers (the system's tzdata, read by gateway/model/zone.ts) against ICU's, as
// Node's Intl gives them: tables neither we nor the zone module's author wrote.
const intl = new Map<string, Intl.DateTimeFormat>();
function intlParts(ts: number, tz: string) {
  let f = intl.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', weekday: 'short' });
    intl.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const x of f.formatToParts(new Date(ts))) p[x.type] = x.value;
  const n = (k: string) => Number(p[k]);
  return {
    year: n('year'),
    month: n('month'),
    day: n('day'),
    hour: n('hour'),
    minute: n('minute'),
    second: n('second'),
    weekday: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(p['weekday'] as string),
  };
}
const intlOffset = (ts: number, tz: string) => {
  const p = intlParts(ts, tz);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - ts;
};

/** Whole seconds from 1970 to about 2060, each at another time of day: past the last transition of every file, into its footer's rule. */
const INSTANTS = Array.from({ length: 400 }, (_, k) => Date.UTC(1970, 0, 1) + k * 7_103_000_000 + ((k * 7919) % 86_400) * 1000);

const haveTzdata = zoneRules('Asia/Shanghai') !== undefined;

describe('time zones from the system zone files', () => {
  it.skipIf(!haveTzdata)('agree with Intl for every zone Intl knows, 1970 to 2060', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    const differ: string[] = [];
    let compared = 0;
    for (const tz of zones) {
      const rules = zoneRules(tz);
      if (!rules) continue;
      const first = INSTANTS.find((ts) => rules.offsetAt(ts / 1000) * 1000 !== intlOffset(ts, tz));
      if (first !== undefined) differ.push(`${tz} at ${new Date(first).toISOString()}`);
      compared++;
    }
    // Every zone of the China standard and a zone of each kind of rule: none may differ.
    const exact = ['Asia/Shanghai', 'Asia/Urumqi', 'Asia/Hong_Kong', 'Asia/Macau', 'Asia/Taipei', 'America/New_York', 'Europe/Berlin', 'Europe/Dublin', 'Australia/Sydney', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/Santiago', 'Asia/Tehran', 'Africa/Casablanca', 'America/St_Johns'];
    for (const tz of exact) expect(differ.filter((d) => d.startsWith(`${tz} `)), tz).toEqual([]);
    // Node's ICU and the system's tzdata are releases of their own: the few zones a release
    // between them changed may differ (tzdata 2025c changed America/Tijuana's 1950s-70s rules).
    expect(compared).toBeGreaterThan(400);
    expect(differ.length, differ.join('; ')).toBeLessThanOrEqual(3);
  });

  it.skipIf(!haveTzdata)('give the same wall-clock fields and weekdays as Intl', () => {
    for (const tz of ['Asia/Shanghai', 'America/New_York', 'Australia/Sydney', 'Asia/Kolkata']) {
      for (const ts of INSTANTS.slice(0, 120)) expect(localParts(ts + 456, tz), `${tz} ${new Date(ts).toISOString()}`).toEqual(intlParts(ts, tz));
    }
    // The instant a local wall time names, across a spring-forward day.
    expect(zonedToUtc(2026, 3, 8, 3, 0, 'America/New_York')).toBe(Date.UTC(2026, 2, 8, 7));
    expect(zonedToUtc(2026, 1, 1, 0, 0, 'Asia/Shanghai')).toBe(Date.UTC(2025, 11, 31, 16));
  });

  it('read POSIX TZ rules as the footers write them (US, southern hemisphere, negative DST, quoted names)', () => {
    const at = (rule: string, iso: string) => parsePosixTz(rule)?.offsetAt(Date.parse(iso) / 1000);
    // US: second Sunday of March 02:00 local standard time, first Sunday of November 02:00 daylight time.
    const us = 'EST5EDT,M3.2.0,M11.1.0';
    expect(at(us, '2026-03-08T06:59:59Z')).toBe(-5 * 3600);
    expect(at(us, '2026-03-08T07:00:00Z')).toBe(-4 * 3600);
    expect(at(us, '2026-11-01T05:59:59Z')).toBe(-4 * 3600);
    expect(at(us, '2026-11-01T06:00:00Z')).toBe(-5 * 3600);
    // Sydney: daylight time from the first Sunday of October to the first Sunday of April (03:00).
    const syd = 'AEST-10AEDT,M10.1.0,M4.1.0/3';
    expect(at(syd, '2026-01-15T00:00:00Z')).toBe(11 * 3600);
    expect(at(syd, '2026-04-04T15:59:59Z')).toBe(11 * 3600);
    expect(at(syd, '2026-04-04T16:00:00Z')).toBe(10 * 3600);
    expect(at(syd, '2026-10-03T15:59:59Z')).toBe(10 * 3600);
    expect(at(syd, '2026-10-03T16:00:00Z')).toBe(11 * 3600);
    expect(at(syd, '2026-12-31T20:00:00Z')).toBe(11 * 3600);
    // Dublin: IST is standard time, and winter's GMT the "daylight" one (a negative DST).
    const dub = 'IST-1GMT0,M10.5.0,M3.5.0/1';
    expect(at(dub, '2026-07-01T12:00:00Z')).toBe(3600);
    expect(at(dub, '2026-10-25T00:59:59Z')).toBe(3600);
    expect(at(dub, '2026-10-25T01:00:00Z')).toBe(0);
    expect(at(dub, '2027-01-10T12:00:00Z')).toBe(0);
    expect(at(dub, '2027-03-28T01:00:00Z')).toBe(3600);
    // Quoted names, minutes.
    expect(at('<+0330>-3:30', '2026-06-01T00:00:00Z')).toBe(3.5 * 3600);
    expect(at('CST-8', '2026-06-01T00:00:00Z')).toBe(8 * 3600);
    for (const bad of ['', '8', 'CST', 'EST5EDT,M3.2.0', 'EST5EDT,M3.2.0,M11.1.0junk', '<+08']) expect(parsePosixTz(bad), bad).toBeUndefined();
  });

  it('keep paths and non-zone files out, and fall back to Intl without zone files', async () => {
    for (const name of ['../../../etc/passwd', '/etc/passwd', 'Asia/../Asia/Shanghai', 'posixrules', 'localtime', 'posix/Asia/Shanghai', 'zone.tab', '']) {
      expect(zoneRules(name), name).toBeUndefined();
    }
    expect(timeZoneProblem('Asia/Shanghai')).toBeUndefined();
    expect(timeZoneProblem('../../../etc/passwd')).toMatch(/unknown time zone/);
    expect(timeZoneProblem('Mars/Olympus')).toMatch(/unknown time zone/);
    // No zone files (a system without tzdata): Intl answers, the same. The module reads $TZDIR
    // once, when it is loaded: a fresh copy of it, loaded with TZDIR at an empty directory.
    const empty = mkdtempSync(join(tmpdir(), 'fcgw-tz-'));
    const before = process.env['TZDIR'];
    try {
      process.env['TZDIR'] = empty;
      vi.resetModules();
      const { localParts, timeZoneProblem, zoneOffset, zoneRules } = await import('../../../gateway/model/zone.js');
      expect(zoneRules('Asia/Shanghai')).toBeUndefined();
      expect(zoneOffset(Date.UTC(2026, 5, 1), 'Asia/Shanghai')).toBe(8 * 3_600_000);
      expect(zoneOffset(Date.UTC(2026, 6, 1), 'America/New_York')).toBe(-4 * 3_600_000);
      expect(localParts(Date.UTC(2026, 11, 31, 16, 0, 5), 'Asia/Shanghai')).toEqual({ year: 2027, month: 1, day: 1, hour: 0, minute: 0, second: 5, weekday: 4 });
      expect(timeZoneProblem('Asia/Shanghai')).toBeUndefined();
      expect(timeZoneProblem('Mars/Olympus')).toMatch(/unknown time zone/);
    } finally {
      if (before === undefined) delete process.env['TZDIR'];
      else process.env['TZDIR'] = before;
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
