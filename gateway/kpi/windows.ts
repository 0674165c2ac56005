import { localParts, zonedToUtc, zoneOffset, type LocalParts } from '../model/zone.js';
import type { KpiWindow } from './names.js';

// The zone arithmetic lives with the model (drivers need it too); KPI code imports it from here as before.
export { localParts, zoneOffset, zonedToUtc, type LocalParts } from '../model/zone.js';

/**
 * KPI windows in the site's time zone, computed with Intl only (no date library). Asia/Shanghai
 * has no DST, but the conversion below is correct for zones with DST too: a local wall time is
 * turned into UTC by correcting with the zone's offset at that instant, twice.
 */

export interface KpiWindowSpan {
  kind: KpiWindow;
  /** Inclusive start, epoch ms. */
  start: number;
  /** Exclusive end, epoch ms. */
  end: number;
  tz: string;
}

export const FIFTEEN_MIN = 15 * 60_000;

/** The calendar window of `kind` that contains `at`; `15m` is the rolling quarter hour ending at `at`. */
export function windowAt(kind: KpiWindow, at: number, tz: string): KpiWindowSpan {
  if (kind === '15m') return { kind, start: at - FIFTEEN_MIN, end: at, tz };
  const p = localParts(at, tz);
  const start = startOf(kind, p, tz);
  return { kind, start, end: shift(kind, start, 1, tz), tz };
}

function startOf(kind: Exclude<KpiWindow, '15m'>, p: LocalParts, tz: string): number {
  switch (kind) {
    case 'hour':
      return zonedToUtc(p.year, p.month, p.day, p.hour, 0, tz);
    case 'day':
      return zonedToUtc(p.year, p.month, p.day, 0, 0, tz);
    case 'week':
      return zonedToUtc(p.year, p.month, p.day - p.weekday, 0, 0, tz);
    case 'month':
      return zonedToUtc(p.year, p.month, 1, 0, 0, tz);
    case 'year':
      return zonedToUtc(p.year, 1, 1, 0, 0, tz);
  }
}

/** The start of the window `n` windows after the one starting at `start` (n may be negative). */
export function shift(kind: KpiWindow, start: number, n: number, tz: string): number {
  if (kind === '15m') return start + n * FIFTEEN_MIN;
  if (kind === 'hour') {
    // Whole hours in UTC are whole local hours except in zones with a :30/:45 offset change; redo by wall time.
    const p = localParts(start, tz);
    return zonedToUtc(p.year, p.month, p.day, p.hour + n, 0, tz);
  }
  const p = localParts(start, tz);
  switch (kind) {
    case 'day':
      return zonedToUtc(p.year, p.month, p.day + n, 0, 0, tz);
    case 'week':
      return zonedToUtc(p.year, p.month, p.day + 7 * n, 0, 0, tz);
    case 'month':
      return zonedToUtc(p.year, p.month + n, 1, 0, 0, tz);
    case 'year':
      return zonedToUtc(p.year + n, 1, 1, 0, 0, tz);
  }
}

export function previousWindow(w: KpiWindowSpan): KpiWindowSpan {
  if (w.kind === '15m') return { ...w, start: w.start - FIFTEEN_MIN, end: w.start };
  return { kind: w.kind, start: shift(w.kind, w.start, -1, w.tz), end: w.start, tz: w.tz };
}

/**
 * Calendar windows of `kind` overlapping [from, to), oldest first, at most `max` of them (the
 * newest are kept). `15m` here means aligned quarter hours, as used for demand.
 */
export function windowsBetween(kind: KpiWindow, from: number, to: number, tz: string, max = 1000): KpiWindowSpan[] {
  if (to < from) return [];
  const out: KpiWindowSpan[] = [];
  let w =
    kind === '15m'
      ? { kind, start: alignQuarter(to, tz), end: alignQuarter(to, tz) + FIFTEEN_MIN, tz }
      : windowAt(kind, to === from ? to : to - 1, tz);
  for (let i = 0; i < max && w.end > from; i++) {
    out.push(w);
    w = previousWindow(w);
  }
  return out.reverse();
}

/** Start of the local quarter hour containing `ts`. */
export function alignQuarter(ts: number, tz: string): number {
  const local = ts + zoneOffset(ts, tz);
  return ts - (((local % FIFTEEN_MIN) + FIFTEEN_MIN) % FIFTEEN_MIN);
}

/** ISO-8601 with the zone's offset, e.g. 2024-03-01T00:00:00+08:00 (for reports and logs). */
export function formatLocal(ts: number, tz: string): string {
  const off = zoneOffset(ts, tz);
  const p = localParts(ts, tz);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off) / 60_000;
  return `${pad(p.year, 4)}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

