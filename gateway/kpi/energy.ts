/**
 * Pure energy (and volume) maths over one series: counter differences that survive resets and
 * rollovers, and trapezoid integration of a rate where a device has no counter.
 *
 * Counter rules (decided here, documented in kpi/README.md):
 * - a sample the pipeline flagged `counter_reset` starts a new baseline: the step into it
 *   contributes nothing (what happened between the last old value and the reset is unknown)
 *   and that stretch of time counts as not covered;
 * - a sample flagged `counter_rollover` adds `wrap − last + new`, where `wrap` is the value at
 *   which the counter wraps to 0 (declared per device, or inferred by the pipeline's rule: the
 *   old value within 10 % below a common register limit and the new one near 0); with no
 *   usable wrap it is treated as a reset;
 * - an unflagged decrease (data written around the pipeline) is classified by the same rule;
 *   a decrease below 1e-9 relative is float jitter and counts as 0.
 * No step is ever negative.
 */

export const FLAG_OK = 0;
export const FLAG_RESET = 1;
export const FLAG_ROLLOVER = 2;
export type CounterFlag = typeof FLAG_OK | typeof FLAG_RESET | typeof FLAG_ROLLOVER;

export interface CounterPoint {
  ts: number;
  v: number;
  flag: CounterFlag;
}

export interface RatePoint {
  ts: number;
  v: number;
}

/** Register limits the pipeline recognises as wrap points (gateway/pipeline/counters.ts). */
const WRAP_LIMITS = [2 ** 16, 2 ** 32, 1e5, 1e6, 1e7, 1e8, 1e9];

export function inferWrap(prev: number, next: number): number | undefined {
  for (const lim of WRAP_LIMITS) if (prev <= lim && prev >= lim * 0.9 && next < lim * 0.1) return lim;
  return undefined;
}

/** The increase from `prev` to `next`, or null when it is unknown (a reset: new baseline). */
export function stepDelta(prev: number, next: number, flag: CounterFlag, wrap?: number): number | null {
  if (flag === FLAG_RESET) return null;
  if (flag === FLAG_OK && next >= prev) return next - prev;
  if (flag === FLAG_OK && prev - next <= Math.abs(prev) * 1e-9) return 0;
  const lim = wrap ?? inferWrap(prev, next);
  if (lim !== undefined && lim >= prev && next >= 0 && next < prev) return lim - prev + next;
  return null;
}

export interface CounterResult {
  /** Increase over the window, in the counter's unit. */
  delta: number;
  /** Time inside [from, min(to, now)) with good input. */
  coveredMs: number;
  resets: number;
  rollovers: number;
}

export interface SpanOptions {
  /** Longest gap between two points that still counts as covered. */
  maxGap: number;
  /** Evaluation time: coverage is measured over [from, min(to, now)). */
  now: number;
  /** Counter wrap value when the device declares one. */
  wrap?: number;
}

/**
 * Increase of a counter over [from, to). `points` are sorted by ts and should include the last
 * point before `from` and the first after `to`, so the boundary steps are split in proportion
 * to time (the counter is taken to grow linearly between two samples).
 */
export function counterOverWindow(points: readonly CounterPoint[], from: number, to: number, opts: SpanOptions): CounterResult {
  const res: CounterResult = { delta: 0, coveredMs: 0, resets: 0, rollovers: 0 };
  const covEnd = Math.min(to, opts.now);
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as CounterPoint;
    const b = points[i] as CounterPoint;
    if (b.ts <= from || a.ts >= to) continue;
    const d = stepDelta(a.v, b.v, b.flag, opts.wrap);
    const lo = Math.max(a.ts, from);
    const hi = Math.min(b.ts, to);
    const span = b.ts - a.ts;
    if (d === null) res.resets++;
    else {
      if (b.v < a.v && d > 0) res.rollovers++;
      res.delta += span > 0 ? (d * (hi - lo)) / span : d;
      if (span <= opts.maxGap) res.coveredMs += Math.max(0, Math.min(hi, covEnd) - lo);
    }
  }
  res.coveredMs += tailCover(points, from, covEnd, opts);
  return res;
}

/**
 * A window still in progress: the time since the newest point is covered while it is shorter
 * than the gap limit (the next sample is simply not due yet).
 */
function tailCover(points: readonly { ts: number }[], from: number, covEnd: number, opts: SpanOptions): number {
  const last = points[points.length - 1];
  if (!last || last.ts >= covEnd || covEnd < opts.now || opts.now - last.ts > opts.maxGap) return 0;
  return covEnd - Math.max(last.ts, from);
}

export type RatePart = 'pos' | 'neg' | 'all';

export interface RateResult {
  /** ∫ rate dt over the covered part of the window, in rate-unit × ms (W·ms → divide by 3.6e6 for Wh). */
  integral: number;
  coveredMs: number;
}

/**
 * Trapezoid integral of a rate over [from, to), linear between points; gaps longer than
 * maxGap are not bridged (they add nothing and lower coverage). `pos` integrates only the
 * positive part (import, charge), `neg` the magnitude of the negative part (export, discharge).
 */
export function integrateRate(points: readonly RatePoint[], from: number, to: number, part: RatePart, opts: SpanOptions): RateResult {
  const res: RateResult = { integral: 0, coveredMs: 0 };
  const covEnd = Math.min(to, opts.now);
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1] as RatePoint;
    const b = points[i] as RatePoint;
    if (b.ts <= from || a.ts >= to) continue;
    const span = b.ts - a.ts;
    if (span <= 0 || span > opts.maxGap) continue;
    const lo = Math.max(a.ts, from);
    const hi = Math.min(b.ts, to);
    const at = (t: number) => a.v + ((b.v - a.v) * (t - a.ts)) / span;
    res.integral += segmentArea(at(lo), at(hi), hi - lo, part);
    res.coveredMs += Math.max(0, Math.min(hi, covEnd) - lo);
  }
  res.coveredMs += tailCover(points, from, covEnd, opts);
  return res;
}

/** Exact area of one part of a straight segment from y0 to y1 over dt (split at a zero crossing). */
export function segmentArea(y0: number, y1: number, dt: number, part: RatePart): number {
  if (part === 'all') return ((y0 + y1) / 2) * dt;
  const s = part === 'pos' ? 1 : -1;
  const a = s * y0;
  const b = s * y1;
  if (a >= 0 && b >= 0) return ((a + b) / 2) * dt;
  if (a <= 0 && b <= 0) return 0;
  const tz = (dt * a) / (a - b);
  return a > 0 ? (a * tz) / 2 : (b * (dt - tz)) / 2;
}

/** Index of the last point with ts ≤ t (0 when none). */
export function indexAtOrBefore(points: readonly { ts: number }[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  let ans = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as { ts: number }).ts <= t) {
      ans = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}

/** Points that matter for [from, to): the last one at or before from, through the first at or after to. */
export function slicePoints<P extends { ts: number }>(points: readonly P[], from: number, to: number): readonly P[] {
  const i0 = indexAtOrBefore(points, from);
  let i1 = indexAtOrBefore(points, to);
  if (i1 < points.length - 1 && (points[i1] as P).ts < to) i1++;
  return points.slice(i0, i1 + 1);
}

export interface Block {
  start: number;
  end: number;
  value: number;
  coveredMs: number;
}

/** Counter increase per block of `blockMs` (e.g. 15-minute demand intervals) over [from, to). */
export function counterBlocks(points: readonly CounterPoint[], from: number, to: number, blockMs: number, opts: SpanOptions): Block[] {
  const out: Block[] = [];
  for (let s = from; s < to && out.length < 100_000; s += blockMs) {
    const e = Math.min(s + blockMs, to);
    const r = counterOverWindow(slicePoints(points, s, e), s, e, opts);
    out.push({ start: s, end: e, value: r.delta, coveredMs: r.coveredMs });
  }
  return out;
}

/** Integral of a rate per block (same shape as counterBlocks; value in rate-unit × ms). */
export function rateBlocks(points: readonly RatePoint[], from: number, to: number, blockMs: number, part: RatePart, opts: SpanOptions): Block[] {
  const out: Block[] = [];
  for (let s = from; s < to && out.length < 100_000; s += blockMs) {
    const e = Math.min(s + blockMs, to);
    const r = integrateRate(slicePoints(points, s, e), s, e, part, opts);
    out.push({ start: s, end: e, value: r.integral, coveredMs: r.coveredMs });
  }
  return out;
}

/** Time inside [from, min(to, now)) bridged by consecutive points no further apart than maxGap. */
export function coverageOfPoints(points: readonly { ts: number }[], from: number, to: number, opts: SpanOptions): number {
  const covEnd = Math.min(to, opts.now);
  let covered = 0;
  for (let i = 1; i < points.length; i++) {
    const a = (points[i - 1] as { ts: number }).ts;
    const b = (points[i] as { ts: number }).ts;
    if (b <= from || a >= covEnd || b - a > opts.maxGap) continue;
    covered += Math.min(b, covEnd) - Math.max(a, from);
  }
  return covered + tailCover(points, from, covEnd, opts);
}

export interface StatePoint {
  ts: number;
  v: string;
}

/**
 * How long each state held inside [from, to): a state holds until the next point, for at most
 * maxGap (states are stored on change plus a keep-alive; a longer silence is not covered).
 */
export function stateDurations(points: readonly StatePoint[], from: number, to: number, opts: SpanOptions): { times: Map<string, number>; coveredMs: number } {
  const times = new Map<string, number>();
  const covEnd = Math.min(to, opts.now);
  let coveredMs = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i] as StatePoint;
    const next = points[i + 1];
    // The newest point holds up to now while its keep-alive is not yet overdue.
    const until = next ? next.ts : a.ts + opts.maxGap >= opts.now ? covEnd : a.ts;
    if (next && next.ts - a.ts > opts.maxGap) continue;
    const lo = Math.max(a.ts, from);
    const hi = Math.min(until, covEnd);
    if (hi <= lo) continue;
    times.set(a.v, (times.get(a.v) ?? 0) + (hi - lo));
    coveredMs += hi - lo;
  }
  return { times, coveredMs };
}

/** The positive steps between consecutive points, in the order given: how many, and their median (the upper one of an even count). */
export interface Steps {
  count: number;
  median: number | undefined;
}

export function positiveSteps(points: readonly { ts: number }[]): Steps {
  const steps: number[] = [];
  for (let i = 1; i < points.length; i++) {
    const d = (points[i] as { ts: number }).ts - (points[i - 1] as { ts: number }).ts;
    if (d > 0) steps.push(d);
  }
  steps.sort((a, b) => a - b);
  return { count: steps.length, median: steps[Math.floor(steps.length / 2)] };
}

/**
 * The gap limit for a series that reports on its own cadence: an hourly LoRaWAN meter or a
 * parking sensor's 20-minute heartbeat has good input when its reports arrive on time. Twice the
 * median step between its points, never less than maxGap (fewer than four points: maxGap). Not
 * used for integrating power, where a long gap is missing information whatever the cadence.
 */
export function cadenceGap(maxGap: number, points: readonly { ts: number }[]): number {
  return cadenceGapOf(maxGap, positiveSteps(points));
}

/** cadenceGap from steps already counted. */
export function cadenceGapOf(maxGap: number, s: Steps): number {
  if (s.count < 3 || s.median === undefined) return maxGap;
  return Math.max(maxGap, 2 * s.median);
}
