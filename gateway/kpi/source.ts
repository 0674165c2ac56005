import {
  FLAG_OK,
  FLAG_RESET,
  FLAG_ROLLOVER,
  counterBlocks,
  counterOverWindow,
  coverageOfPoints,
  integrateRate,
  rateBlocks,
  stateDurations,
  type Block,
  type CounterFlag,
  type CounterPoint,
  type RatePart,
  type RatePoint,
  type SpanOptions,
  type StatePoint,
} from './energy.js';
import type { KpiQueries, RawRow } from './queries.js';
import { HOUR_MS, cleanHourPoints, estimatedHourPoints, hourCoverage, isSuspicious, medianStep, mergeStreams, type HourBucket } from './rollups.js';

/**
 * Reads one series over one window and hands the pure maths its points: raw samples for short
 * windows and recent hours, hourly rollups for the bulk of long windows. Results are memoised
 * for one evaluation pass (several KPIs share a series).
 */

export interface ReaderOptions {
  maxGap: number;
  now: number;
  /** Declared counter wrap of a series (catalog units), when its profile or config gives one. */
  wrapOf?: (device: string, metric: string) => number | undefined;
}

/** A value read from one series over a window, with the time it is backed by good input. */
export interface Measure {
  value: number;
  coveredMs: number;
  spanMs: number;
  series: string;
}

/** Windows up to this long are read raw; longer ones use hourly rollups where they are complete. */
const RAW_WINDOW_MAX = 6 * HOUR_MS;
/** Uncertain samples whose value is not a fresh reading. */
const UNUSABLE = new Set(['stale', 'device_offline']);

export class SeriesReader {
  private rollup: { usable: boolean; dirty: Set<string> } | undefined;
  private readonly memo = new Map<string, unknown>();

  constructor(
    private readonly q: KpiQueries,
    readonly opts: ReaderOptions,
  ) {}

  has(device: string, metric: string): boolean {
    return this.q.seriesId(device, metric) !== undefined;
  }

  private span(device: string, metric: string): SpanOptions & { sid: number } | undefined {
    const sid = this.q.seriesId(device, metric);
    if (sid === undefined) return undefined;
    const wrap = this.opts.wrapOf?.(device, metric);
    return { sid, maxGap: this.opts.maxGap, now: this.opts.now, ...(wrap !== undefined ? { wrap } : {}) };
  }

  private cached<T>(key: string, fn: () => T): T {
    if (this.memo.has(key)) return this.memo.get(key) as T;
    const v = fn();
    this.memo.set(key, v);
    return v;
  }

  private spanMs(from: number, to: number): number {
    return Math.max(0, Math.min(to, this.opts.now) - from);
  }

  /** Increase of a counter over [from, to). */
  counter(device: string, metric: string, from: number, to: number): Measure | undefined {
    const o = this.span(device, metric);
    if (!o) return undefined;
    return this.cached(`c:${o.sid}:${from}:${to}`, () => {
      const r = to - from <= RAW_WINDOW_MAX ? undefined : this.counterFromRollups(o.sid, from, to, o);
      const res = r ?? counterOverWindow(this.counterPoints(o.sid, from, to), from, to, o);
      return { value: res.delta, coveredMs: res.coveredMs, spanMs: this.spanMs(from, to), series: `${device}/${metric}` };
    });
  }

  /** ∫ rate dt over [from, to) in rate-unit·hours (W → Wh, m³/h → m³), trapezoid. */
  rate(device: string, metric: string, from: number, to: number, part: RatePart): Measure | undefined {
    const o = this.span(device, metric);
    if (!o) return undefined;
    return this.cached(`r:${o.sid}:${from}:${to}:${part}`, () => {
      const r = integrateRate(this.ratePoints(device, metric, from, to), from, to, part, o);
      return { value: r.integral / HOUR_MS, coveredMs: r.coveredMs, spanMs: this.spanMs(from, to), series: `${device}/${metric}` };
    });
  }

  /**
   * Per-block increase of a counter (or integral of a rate where there is no counter, in
   * rate-unit·hours) over [from, to): 15-minute demand intervals, night-time flow.
   */
  blocks(device: string, counter: string, rate: string, part: RatePart, from: number, to: number, blockMs: number): Block[] | undefined {
    const c = this.span(device, counter);
    if (c) return counterBlocks(this.counterPoints(c.sid, from, to), from, to, blockMs, c);
    const r = this.span(device, rate);
    if (!r) return undefined;
    return rateBlocks(this.ratePoints(device, rate, from, to), from, to, blockMs, part, r).map((b) => ({ ...b, value: b.value / HOUR_MS }));
  }

  counterPoints(sid: number, from: number, to: number): CounterPoint[] {
    return this.withNeighbours(sid, from, to).flatMap((r) => {
      const p = toCounterPoint(r);
      return p ? [p] : [];
    });
  }

  ratePoints(device: string, metric: string, from: number, to: number): RatePoint[] {
    const sid = this.q.seriesId(device, metric);
    if (sid === undefined) return [];
    return this.withNeighbours(sid, from, to).flatMap((r) => (usable(r) && typeof r.value === 'number' ? [{ ts: r.ts, v: r.value }] : []));
  }

  statePoints(device: string, metric: string, from: number, to: number): StatePoint[] {
    const sid = this.q.seriesId(device, metric);
    if (sid === undefined) return [];
    return this.withNeighbours(sid, from, to).flatMap((r) => (usable(r) && r.value !== null ? [{ ts: r.ts, v: stateText(r.value) }] : []));
  }

  /** Time in each state over [from, to) and the time covered. */
  states(device: string, metric: string, from: number, to: number): { times: Map<string, number>; coveredMs: number; spanMs: number } | undefined {
    const o = this.span(device, metric);
    if (!o) return undefined;
    return this.cached(`s:${o.sid}:${from}:${to}`, () => ({ ...stateDurations(this.statePoints(device, metric, from, to), from, to, o), spanMs: this.spanMs(from, to) }));
  }

  /** Newest usable value at or before ts, no older than maxAge. */
  valueAt(device: string, metric: string, ts: number, maxAge = this.opts.maxGap): number | undefined {
    const sid = this.q.seriesId(device, metric);
    if (sid === undefined) return undefined;
    const r = this.q.before(sid, ts + 1);
    if (!r || ts - r.ts > maxAge || !usable(r)) return undefined;
    return typeof r.value === 'number' ? r.value : undefined;
  }

  /** Coverage of any series: share of [from, to) bridged by its samples. */
  coverage(device: string, metric: string, from: number, to: number): Measure | undefined {
    const o = this.span(device, metric);
    if (!o) return undefined;
    return this.cached(`v:${o.sid}:${from}:${to}`, () => {
      const pts = this.withNeighbours(o.sid, from, to).filter(usable);
      return { value: 0, coveredMs: coverageOfPoints(pts, from, to, o), spanMs: this.spanMs(from, to), series: `${device}/${metric}` };
    });
  }

  /**
   * Complete hourly rollups of a series in [from, to) (hours not yet folded are left out), or
   * undefined when the rollups cannot be used at all.
   */
  hourBuckets(device: string, metric: string, from: number, to: number): HourBucket[] | undefined {
    const sid = this.q.seriesId(device, metric);
    const state = this.rollups();
    if (sid === undefined || !state.usable) return undefined;
    return this.cached(`h:${sid}:${from}:${to}`, () => this.q.hours(sid, from, to).filter((b) => !state.dirty.has(`${sid}:${b.start}`)));
  }

  private withNeighbours(sid: number, from: number, to: number): RawRow[] {
    const rows = this.q.raw(sid, from, to);
    const before = this.q.before(sid, from);
    const after = this.q.atOrAfter(sid, to);
    if (before) rows.unshift(before);
    if (after) rows.push(after);
    return rows;
  }

  private rollups(): { usable: boolean; dirty: Set<string> } {
    this.rollup ??= this.q.rollupState();
    return this.rollup;
  }

  /**
   * A long window from hourly rollups: whole hours inside [from, now) whose rollup is complete
   * stand in for their samples; everything else (edges, recent or not-yet-folded hours, hours
   * that went down while their raw samples remain) is read raw.
   */
  private counterFromRollups(sid: number, from: number, to: number, o: SpanOptions): { delta: number; coveredMs: number; resets: number; rollovers: number } | undefined {
    const state = this.rollups();
    if (!state.usable) return undefined;
    const covEnd = Math.min(to, this.opts.now);
    const h0 = Math.ceil(from / HOUR_MS) * HOUR_MS;
    const h1 = Math.floor(covEnd / HOUR_MS) * HOUR_MS;
    if (h1 <= h0) return undefined;

    const standIns: CounterPoint[] = [];
    const used = new Set<number>();
    const rawHours: CounterPoint[] = [];
    const buckets = this.q.hours(sid, h0, h1).filter((b) => !state.dirty.has(`${sid}:${b.start}`));
    let prev: HourBucket | undefined;
    let coveredMs = 0;
    const interval = medianStep(this.q.recentTs(sid, covEnd, 32)) ?? HOUR_MS / Math.max(1, ...buckets.map((b) => b.count));
    for (const b of buckets) {
      const prevLast = prev && prev.start === b.start - HOUR_MS ? prev.last : this.q.before(sid, b.start)?.value;
      if (isSuspicious(b, typeof prevLast === 'number' ? prevLast : undefined)) {
        const raw = this.q.raw(sid, b.start, b.start + HOUR_MS);
        if (raw.length > 0) {
          prev = b;
          continue; // read raw below, with the pipeline's flags
        }
        standIns.push(...estimatedHourPoints(b, o.wrap));
      } else standIns.push(...cleanHourPoints(b));
      used.add(b.start);
      coveredMs += hourCoverage(b.count, interval, o.maxGap);
      prev = b;
    }

    // The rest of [from, to) as raw ranges (consecutive hours merged).
    const ranges: [number, number][] = [];
    let cursor = from;
    for (let h = h0; h < h1; h += HOUR_MS) {
      if (!used.has(h)) continue;
      if (h > cursor) ranges.push([cursor, h]);
      cursor = h + HOUR_MS;
    }
    if (cursor < to) ranges.push([cursor, to]);
    const seen = new Set<number>();
    const keep = (p: CounterPoint | undefined) => {
      if (p && !seen.has(p.ts)) (seen.add(p.ts), rawHours.push(p));
    };
    for (const [rs, re] of ranges) {
      const pts = this.counterPoints(sid, rs, re);
      coveredMs += counterOverWindow(pts, rs, re, o).coveredMs;
      pts.forEach(keep);
    }
    // The real samples on either side of each window edge, so the edge steps are split in time.
    for (const t of [from, to]) {
      for (const r of [this.q.before(sid, t), this.q.atOrAfter(sid, t)]) keep(r ? toCounterPoint(r) : undefined);
    }
    const stream = mergeStreams(rawHours.sort((a, b) => a.ts - b.ts), standIns);
    const r = counterOverWindow(stream, from, to, o);
    return { delta: r.delta, coveredMs, resets: r.resets, rollovers: r.rollovers };
  }
}

function usable(r: RawRow): boolean {
  return r.quality === 0 || (r.quality === 1 && !UNUSABLE.has(r.reason ?? ''));
}

function toCounterPoint(r: RawRow): CounterPoint | undefined {
  if (!usable(r) || typeof r.value !== 'number' || !Number.isFinite(r.value)) return undefined;
  const flag: CounterFlag = r.reason === 'counter_reset' ? FLAG_RESET : r.reason === 'counter_rollover' ? FLAG_ROLLOVER : FLAG_OK;
  return { ts: r.ts, v: r.value, flag };
}

function stateText(v: unknown): string {
  if (v === 1 || v === true) return 'true';
  if (v === 0 || v === false) return 'false';
  return String(v);
}
