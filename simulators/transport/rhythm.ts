/**
 * Daily rhythms in the community's local time: a rate curve is 24 hourly weights, linearly
 * interpolated, so behaviour follows the clock (morning departures, evening returns, parcel waves).
 */
import { zoneOffset } from '../../gateway/kpi/windows.js';

export type HourlyCurve = readonly number[];

const offsets = new Map<string, number>();

/** UTC offset of `timezone` at `ts`, in ms (the KPI windows' rule, cached per zone and hour). */
export function utcOffset(timezone: string, ts: number): number {
  const key = `${timezone}|${Math.floor(ts / 3_600_000)}`;
  const hit = offsets.get(key);
  if (hit !== undefined) return hit;
  const off = zoneOffset(Math.floor(ts / 3_600_000) * 3_600_000, timezone);
  if (offsets.size > 10_000) offsets.clear();
  offsets.set(key, off);
  return off;
}

/** Local hour of day as a fraction, 0 ≤ h < 24. */
export function localHour(timezone: string, ts: number): number {
  const local = ts + utcOffset(timezone, ts);
  return (((local % 86_400_000) + 86_400_000) % 86_400_000) / 3_600_000;
}

export function curveAt(curve: HourlyCurve, hour: number): number {
  const h = Math.floor(hour) % 24;
  const f = hour - Math.floor(hour);
  const a = curve[h] ?? 0;
  const b = curve[(h + 1) % 24] ?? 0;
  return a + (b - a) * f;
}
