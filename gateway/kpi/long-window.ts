import { cadenceGapOf, counterOverWindow, positiveSteps, type CounterPoint, type CounterResult, type SpanOptions } from './energy.js';
import { toCounterPoint } from './points.js';
import type { KpiReads, RollupState } from '../store/kpi-reads.js';
import { HOUR_MS, cleanHourPoints, estimatedHourPoints, hourCoverage, intervalOf, isSuspicious, mergeStreams, type HourBucket } from './rollups.js';

/**
 * A counter over a long window from hourly rollups. Whole hours inside [from, now) whose
 * rollup is complete stand in for their samples; the edges, hours not yet folded, and hours
 * that went down while their raw samples remain are read raw (they carry the pipeline's flags).
 *
 * Fast path: when no hour went down, SQLite sums the chain up (coverage, checks) and only its
 * first and last values come back: the increase of a counter that only grew is last − first.
 */

type RawPoints = (sid: number, from: number, to: number) => CounterPoint[];

export function counterFromRollups(q: KpiReads, state: RollupState, sid: number, from: number, to: number, o: SpanOptions, raw: RawPoints): CounterResult | undefined {
  if (!state.usable) return undefined;
  const covEnd = Math.min(to, o.now);
  const h0 = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const h1 = Math.floor(covEnd / HOUR_MS) * HOUR_MS;
  if (h1 <= h0) return undefined;
  const skip = (state.dirty.get(sid) ?? []).filter((h) => h >= h0 && h < h1);
  // Ascending (the query returns the newest first): one pass of steps gives the interval and the gap.
  const steps = positiveSteps(q.recentTs(sid, covEnd, 32).reverse().map((ts) => ({ ts })));
  let interval = intervalOf(steps);
  // A series reporting every few hours leaves most hours without a rollup: read it raw (it is small).
  if (interval !== undefined && interval > HOUR_MS / 2) return undefined;
  o = { ...o, maxGap: cadenceGapOf(o.maxGap, steps) };
  const chain = q.hourChain(sid, h0, h1, skip, interval ?? HOUR_MS, o.maxGap);
  if (interval === undefined) {
    // Too few recent samples to tell the interval: take it from the busiest hour, and sum again.
    interval = HOUR_MS / Math.max(1, chain.maxCount);
    Object.assign(chain, { coveredMs: q.hourChain(sid, h0, h1, skip, interval, o.maxGap).coveredMs });
  }
  // A drop inside or between hours, or whole hours missing (the next-hour check cannot see across them).
  if (chain.suspicious > 0 || chain.hours < (h1 - h0) / HOUR_MS - skip.length) return detailed(q, state, sid, from, to, o, raw, interval);

  const standIns: CounterPoint[] = [];
  if (chain.first && chain.last) standIns.push({ ...chain.first, flag: 0 }, { ...chain.last, flag: 0 });
  const ranges: [number, number][] = [];
  if (from < h0) ranges.push([from, h0]);
  for (const h of skip) ranges.push([h, h + HOUR_MS]);
  if (h1 < to) ranges.push([h1, to]);
  return finish(q, sid, from, to, o, raw, ranges, standIns, interval > o.maxGap ? 0 : chain.coveredMs);
}

/** Hour by hour: hours that went down are re-read raw, or estimated once their samples are gone. */
function detailed(q: KpiReads, state: RollupState, sid: number, from: number, to: number, o: SpanOptions, raw: RawPoints, interval: number): CounterResult {
  const covEnd = Math.min(to, o.now);
  const h0 = Math.ceil(from / HOUR_MS) * HOUR_MS;
  const h1 = Math.floor(covEnd / HOUR_MS) * HOUR_MS;
  const skip = new Set(state.dirty.get(sid) ?? []);
  const standIns: CounterPoint[] = [];
  const used = new Set<number>();
  let coveredMs = 0;
  let prev: HourBucket | undefined;
  for (const b of q.hours(sid, h0, h1)) {
    if (skip.has(b.start)) continue;
    const prevLast = prev && prev.start === b.start - HOUR_MS ? prev.last : q.before(sid, b.start)?.value;
    if (isSuspicious(b, typeof prevLast === 'number' ? prevLast : undefined)) {
      if (q.raw(sid, b.start, b.start + HOUR_MS).length > 0) {
        prev = b;
        continue;
      }
      standIns.push(...estimatedHourPoints(b, o.wrap));
    } else standIns.push(...cleanHourPoints(b));
    used.add(b.start);
    coveredMs += hourCoverage(b.count, interval, o.maxGap);
    prev = b;
  }
  const ranges: [number, number][] = [];
  let cursor = from;
  for (let h = h0; h < h1; h += HOUR_MS) {
    if (!used.has(h)) continue;
    if (h > cursor) ranges.push([cursor, h]);
    cursor = h + HOUR_MS;
  }
  if (cursor < to) ranges.push([cursor, to]);
  return finish(q, sid, from, to, o, raw, ranges, standIns, coveredMs);
}

/** Add the raw ranges and the real samples around each window edge, and walk the merged stream. */
function finish(
  q: KpiReads,
  sid: number,
  from: number,
  to: number,
  o: SpanOptions,
  raw: RawPoints,
  ranges: readonly [number, number][],
  standIns: CounterPoint[],
  coveredFromRollups: number,
): CounterResult {
  let coveredMs = coveredFromRollups;
  const seen = new Set<number>();
  const points: CounterPoint[] = [];
  const keep = (p: CounterPoint | undefined) => {
    if (!p || seen.has(p.ts)) return;
    seen.add(p.ts);
    points.push(p);
  };
  for (const [rs, re] of ranges) {
    const pts = raw(sid, rs, re);
    coveredMs += counterOverWindow(pts, rs, re, o).coveredMs;
    pts.forEach(keep);
  }
  // The edge steps are split in proportion to time, like a raw read would.
  for (const t of [from, to]) {
    for (const r of [q.before(sid, t), q.atOrAfter(sid, t)]) keep(r ? toCounterPoint(r) : undefined);
  }
  const stream = mergeStreams(points.sort((a, b) => a.ts - b.ts), standIns);
  const r = counterOverWindow(stream, from, to, o);
  return { delta: r.delta, coveredMs, resets: r.resets, rollovers: r.rollovers };
}
