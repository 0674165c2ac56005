import type { HourBucket } from '../store/kpi-reads.js';
import { FLAG_OK, FLAG_RESET, FLAG_ROLLOVER, inferWrap, positiveSteps, type CounterPoint, type Steps } from './energy.js';

/**
 * Counters over long windows from the store's hourly rollups (count, min, max, last per hour),
 * so a month of 1-minute data is ~720 rows per series instead of 43,200.
 *
 * For a counter that only grew during an hour, min is its first value and last its last, so the
 * hour stands in for its raw samples as two points: (hour start, min) and (last_ts, last). An
 * hour where it went down (last < max, or min below the previous hour's last) held a reset or a
 * rollover: the caller re-reads that hour's raw samples (which carry the pipeline's flags) while
 * they are retained; past raw retention the hour is estimated as (max − previous last) +
 * (last − min), with the wrap added when the drop looks like a rollover.
 */

export type { HourBucket };

export const HOUR_MS = 3_600_000;

const dropped = (from: number, to: number) => from - to > Math.abs(from) * 1e-9;

/** Whether an hour held a decrease (against its own max, or the last value before it). */
export function isSuspicious(b: HourBucket, prevLast: number | undefined): boolean {
  return dropped(b.max, b.last) || (prevLast !== undefined && dropped(prevLast, b.min));
}

/** Stand-in points of a clean hour. */
export function cleanHourPoints(b: HourBucket): CounterPoint[] {
  if (b.lastTs <= b.start) return [{ ts: b.lastTs, v: b.last, flag: FLAG_OK }];
  return [
    { ts: b.start, v: b.min, flag: FLAG_OK },
    { ts: b.lastTs, v: b.last, flag: FLAG_OK },
  ];
}

/**
 * Stand-in points of an hour that went down and whose raw samples are gone: climb to max, drop
 * to min (a new baseline, or a wrap when it looks like one), climb to last.
 */
export function estimatedHourPoints(b: HourBucket, wrap?: number): CounterPoint[] {
  const lim = wrap ?? inferWrap(b.max, b.min);
  const dropFlag = lim !== undefined && b.max <= lim && b.min < lim * 0.1 ? FLAG_ROLLOVER : FLAG_RESET;
  return [
    { ts: b.start, v: b.max, flag: FLAG_OK },
    { ts: b.start + 1, v: b.min, flag: dropFlag },
    { ts: Math.max(b.start + 2, b.lastTs), v: b.last, flag: FLAG_OK },
  ];
}

/**
 * Coverage of an hour from its sample count, on the same terms as the gap rule for raw samples:
 * the time the missing samples stand for is taken as one gap (an outage), which costs nothing
 * while it is no longer than maxGap and all of its length beyond that. Sampling slower than
 * maxGap never counts as covered.
 */
export function hourCoverage(count: number, intervalMs: number, maxGap: number): number {
  if (intervalMs <= 0 || intervalMs > maxGap) return 0;
  const missing = HOUR_MS - count * intervalMs;
  if (missing <= maxGap) return HOUR_MS;
  return Math.max(0, HOUR_MS - missing);
}

/** The sampling interval of a series: the median step of recent timestamps (fewer than two steps: undefined). */
export function medianStep(ts: readonly number[]): number | undefined {
  return intervalOf(positiveSteps([...ts].sort((a, b) => a - b).map((t) => ({ ts: t }))));
}

/** medianStep from steps already counted (over ascending timestamps). */
export function intervalOf(s: Steps): number | undefined {
  return s.count < 2 ? undefined : s.median;
}

/**
 * Merge raw points and stand-in points into one time-ordered stream. A raw point wins over a
 * stand-in at the same time; a stand-in "first value" is dropped when a raw point of the same
 * hour already carries that value (it is the same sample, at its real time).
 */
export function mergeStreams(raw: readonly CounterPoint[], standIns: readonly CounterPoint[]): CounterPoint[] {
  const rawHours = new Map<number, CounterPoint[]>();
  for (const p of raw) {
    const h = p.ts - (p.ts % HOUR_MS);
    const list = rawHours.get(h);
    if (list) list.push(p);
    else rawHours.set(h, [p]);
  }
  const rawTs = new Set(raw.map((p) => p.ts));
  const kept = standIns.filter((p) => {
    if (rawTs.has(p.ts)) return false;
    const sameHour = rawHours.get(p.ts - (p.ts % HOUR_MS));
    return !(p.ts % HOUR_MS === 0 && sameHour?.some((r) => r.v === p.v));
  });
  return [...raw, ...kept].sort((a, b) => a.ts - b.ts);
}
