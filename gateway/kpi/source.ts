import {
  cadenceGap,
  counterBlocks,
  counterOverWindow,
  coverageOfPoints,
  integrateRate,
  rateBlocks,
  stateDurations,
  type Block,
  type CounterPoint,
  type RatePart,
  type RatePoint,
  type SpanOptions,
  type StatePoint,
} from './energy.js';
import { counterFromRollups } from './long-window.js';
import { stateText, toCounterPoint, usable } from './points.js';
import type { KpiReads, RawRow, RollupState } from '../store/kpi-reads.js';
import { HOUR_MS, type HourBucket } from './rollups.js';

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

export class SeriesReader {
  private rollup: RollupState | undefined;
  private readonly memo = new Map<string, unknown>();

  constructor(
    private readonly q: KpiReads,
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

  /** The span options with the gap limit widened to the series' own reporting cadence. */
  private onCadence<T extends SpanOptions>(o: T, pts: readonly { ts: number }[]): T {
    return { ...o, maxGap: cadenceGap(o.maxGap, pts) };
  }

  private spanMs(from: number, to: number): number {
    return Math.max(0, Math.min(to, this.opts.now) - from);
  }

  /** Increase of a counter over [from, to). */
  counter(device: string, metric: string, from: number, to: number): Measure | undefined {
    const o = this.span(device, metric);
    if (!o) return undefined;
    return this.cached(`c:${o.sid}:${from}:${to}`, () => {
      const r = to - from <= RAW_WINDOW_MAX ? undefined : counterFromRollups(this.q, this.rollups(), o.sid, from, to, o, (sid, a, b) => this.counterPoints(sid, a, b));
      const pts = r ? [] : this.counterPoints(o.sid, from, to);
      const res = r ?? counterOverWindow(pts, from, to, this.onCadence(o, pts));
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
    if (c) {
      const pts = this.counterPoints(c.sid, from, to);
      return counterBlocks(pts, from, to, blockMs, this.onCadence(c, pts));
    }
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
    return this.cached(`s:${o.sid}:${from}:${to}`, () => {
      const pts = this.statePoints(device, metric, from, to);
      return { ...stateDurations(pts, from, to, this.onCadence(o, pts)), spanMs: this.spanMs(from, to) };
    });
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
      return { value: 0, coveredMs: coverageOfPoints(pts, from, to, this.onCadence(o, pts)), spanMs: this.spanMs(from, to), series: `${device}/${metric}` };
    });
  }

  /** Complete hourly rollups of the given hours (those not yet folded are left out), or undefined without rollups. */
  hoursAt(device: string, metric: string, starts: readonly number[]): HourBucket[] | undefined {
    const sid = this.q.seriesId(device, metric);
    const state = this.rollups();
    if (sid === undefined || !state.usable) return undefined;
    const skip = new Set(state.dirty.get(sid) ?? []);
    return this.q.hoursAt(sid, starts).filter((b) => !skip.has(b.start));
  }

  private withNeighbours(sid: number, from: number, to: number): RawRow[] {
    const rows = this.q.raw(sid, from, to);
    const before = this.q.before(sid, from);
    const after = this.q.atOrAfter(sid, to);
    if (before) rows.unshift(before);
    if (after) rows.push(after);
    return rows;
  }

  private rollups(): RollupState {
    this.rollup ??= this.q.rollupState();
    return this.rollup;
  }
}
