import { describe, expect, it } from 'vitest';
import { formatLocal, localParts, previousWindow, windowAt, windowsBetween, zonedToUtc, zoneOffset } from '../../../gateway/kpi/windows.js';

const SH = 'Asia/Shanghai';
const iso = (s: string) => Date.parse(s);

describe('windows in Asia/Shanghai', () => {
  it('has a fixed +08:00 offset', () => {
    expect(zoneOffset(iso('2024-01-15T00:00:00Z'), SH)).toBe(8 * 3_600_000);
    expect(zoneOffset(iso('2024-07-15T00:00:00Z'), SH)).toBe(8 * 3_600_000);
  });

  it.each([
    // [kind, at (UTC), start (local), end (local)]
    ['hour', '2024-03-10T05:59:59.999Z', '2024-03-10T13:00:00+08:00', '2024-03-10T14:00:00+08:00'],
    // 15:59 UTC is 23:59 local: still the 10th; 16:00 UTC is local midnight of the 11th.
    ['day', '2024-03-10T15:59:59.999Z', '2024-03-10T00:00:00+08:00', '2024-03-11T00:00:00+08:00'],
    ['day', '2024-03-10T16:00:00.000Z', '2024-03-11T00:00:00+08:00', '2024-03-12T00:00:00+08:00'],
    // Weeks start on Monday: Sunday 2024-03-10 belongs to the week of Monday 4 March.
    ['week', '2024-03-10T12:00:00Z', '2024-03-04T00:00:00+08:00', '2024-03-11T00:00:00+08:00'],
    ['week', '2024-03-10T16:30:00Z', '2024-03-11T00:00:00+08:00', '2024-03-18T00:00:00+08:00'],
    // Month boundary: 2024-02-29T16:00Z is 1 March local (leap year).
    ['month', '2024-02-29T15:59:59Z', '2024-02-01T00:00:00+08:00', '2024-03-01T00:00:00+08:00'],
    ['month', '2024-02-29T16:00:00Z', '2024-03-01T00:00:00+08:00', '2024-04-01T00:00:00+08:00'],
    ['month', '2024-12-31T16:00:00Z', '2025-01-01T00:00:00+08:00', '2025-02-01T00:00:00+08:00'],
    ['year', '2024-12-31T15:59:59Z', '2024-01-01T00:00:00+08:00', '2025-01-01T00:00:00+08:00'],
  ] as const)('%s window at %s', (kind, at, start, end) => {
    const w = windowAt(kind, iso(at), SH);
    expect(formatLocal(w.start, SH)).toBe(start);
    expect(formatLocal(w.end, SH)).toBe(end);
  });

  it('the rolling 15m window ends at the instant asked for', () => {
    const at = iso('2024-03-10T05:07:30Z');
    expect(windowAt('15m', at, SH)).toEqual({ kind: '15m', start: at - 900_000, end: at, tz: SH });
  });

  it('lists the windows overlapping a range, oldest first', () => {
    const ws = windowsBetween('day', iso('2024-02-28T20:00:00+08:00'), iso('2024-03-02T01:00:00+08:00'), SH);
    expect(ws.map((w) => formatLocal(w.start, SH).slice(0, 10))).toEqual(['2024-02-28', '2024-02-29', '2024-03-01', '2024-03-02']);
    const months = windowsBetween('month', iso('2024-01-01T00:00:00+08:00'), iso('2025-01-01T00:00:00+08:00'), SH);
    expect(months).toHaveLength(12);
    expect(months.map((m) => (m.end - m.start) / 86_400_000)).toEqual([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]);
  });

  it('steps back one window across a year boundary', () => {
    const w = windowAt('month', iso('2025-01-10T00:00:00+08:00'), SH);
    expect(formatLocal(previousWindow(w).start, SH)).toBe('2024-12-01T00:00:00+08:00');
  });

  it('converts local wall time, overflowing fields like Date.UTC', () => {
    expect(zonedToUtc(2024, 13, 1, 0, 0, SH)).toBe(iso('2025-01-01T00:00:00+08:00'));
    expect(zonedToUtc(2024, 3, 0, 0, 0, SH)).toBe(iso('2024-02-29T00:00:00+08:00'));
    expect(localParts(iso('2024-03-11T00:30:00+08:00'), SH)).toMatchObject({ year: 2024, month: 3, day: 11, hour: 0, minute: 30, weekday: 0 });
  });

  it('stays right in a zone with DST (the Intl conversion is not Shanghai-only)', () => {
    const berlin = 'Europe/Berlin';
    const d = windowAt('day', iso('2024-03-31T12:00:00Z'), berlin);
    expect((d.end - d.start) / 3_600_000).toBe(23);
    expect(formatLocal(d.start, berlin)).toBe('2024-03-31T00:00:00+01:00');
    expect(formatLocal(d.end, berlin)).toBe('2024-04-01T00:00:00+02:00');
  });
});
