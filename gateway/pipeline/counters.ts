import { PairMap } from '../model/pair-map.js';

/**
 * Counter continuity. A counter only grows; when it goes down the cause is either a rollover
 * (a register wrapped at its maximum) or a reset (a meter replaced or cleared). Either way the
 * sample is flagged so no KPI ever sees a negative delta, and the raw value is kept.
 */
export type CounterVerdict = 'ok' | 'counter_reset' | 'counter_rollover';

/**
 * What the resolved site knows about a counter series (gateway/site): a declared maximum (in
 * catalog units) decides wrap versus reset; without one, the raw register value (reported value
 * ÷ scale) is compared with the register's range and the common decimal limits.
 */
export interface CounterFacts {
  /** Declared wrap point, catalog units. */
  max?: number | undefined;
  /** Reported value = raw × scale (a fixed scale; unknown for SunSpec scale factors). */
  scale?: number | undefined;
  /** The register's range (uint16: 65536). */
  rawRange?: number | undefined;
}

/** Register maxima seen in the field, in raw register units: binary widths and decimal digit counts. */
const WRAP_LIMITS = [2 ** 16, 2 ** 32, 1e5, 1e6, 1e7, 1e8, 1e9];

export function classifyDecrease(prev: number, next: number, rolloverAt?: number, limits: readonly number[] = WRAP_LIMITS): CounterVerdict {
  if (next >= prev) return 'ok';
  // Float meters jitter in the last digit; a relative drop below 1e-9 is noise, not a reset.
  if (prev - next <= Math.abs(prev) * 1e-9) return 'ok';
  if (rolloverAt !== undefined) {
    return prev >= rolloverAt * 0.9 && next < rolloverAt * 0.1 ? 'counter_rollover' : 'counter_reset';
  }
  // Without a declared maximum: a previous value within 10 % below a register limit, and a new
  // value near zero, is a wrap.
  for (const lim of limits) {
    if (prev <= lim && prev >= lim * 0.9 && next < lim * 0.1) return 'counter_rollover';
  }
  return 'counter_reset';
}

/** Where a late counter reading finds the stored reading before it in time (the store's history). */
export interface CounterHistory {
  before(device: string, metric: string, ts: number): { ts: number; value: number } | undefined;
}

interface Point {
  ts: number;
  value: number;
  /** The value as the register held it; undefined for a point read back from the store. */
  raw?: number | undefined;
}

/**
 * Last value per counter series, bounded (oldest series evicted first). A reading older than the
 * last (a logger's replay, a handheld's batch) is judged against its predecessor in time: the
 * stored one (`CounterHistory`) or a late one of the same commit not yet stored. It never moves
 * the state back, so a backfill neither fakes a reset nor hides a real one.
 */
export class CounterState {
  private readonly last: PairMap<Point>;
  /** Late points accepted since the last commit (the store does not have them yet). */
  private readonly pending = new PairMap<Point[]>();
  constructor(maxSeries = 200_000) {
    this.last = new PairMap(maxSeries);
  }

  /**
   * Compare with the previous value in time order. `value` is in catalog units, `reported` in the
   * unit the driver gave it (before conversion); `history` finds the stored predecessor of a late one.
   */
  check(device: string, metric: string, ts: number, value: number, facts: CounterFacts = {}, reported = value, history?: () => { ts: number; value: number } | undefined): CounterVerdict {
    const prev = this.last.get(device, metric);
    const scale = facts.scale !== undefined && facts.scale > 0 ? facts.scale : 1;
    const raw = reported / scale;
    if (prev && ts < prev.ts) return this.late(device, metric, { ts, value, raw }, facts, history);
    if (!prev) {
      this.last.set(device, metric, { ts, value, raw });
      return 'ok';
    }
    const verdict = judge(prev, { ts, value, raw }, facts);
    // In place: one point per series, not one per sample.
    prev.ts = ts;
    prev.value = value;
    prev.raw = raw;
    return verdict;
  }

  private late(device: string, metric: string, p: Point, facts: CounterFacts, history: (() => { ts: number; value: number } | undefined) | undefined): CounterVerdict {
    let before: Point | undefined = history?.();
    const list = this.pending.get(device, metric);
    for (const q of list ?? []) if (q.ts < p.ts && (!before || q.ts > before.ts)) before = q;
    if (list) list.push(p);
    else this.pending.set(device, metric, [p]);
    return before ? judge(before, p, facts) : 'ok';
  }

  /** The pending late points are committed (or refused): the store answers for them from now on. */
  settle(): void {
    this.pending.clear();
  }
}

/** A step from `a` to the later `b`: a declared maximum decides on catalog values, else the raw register values. */
function judge(a: Point, b: Point, facts: CounterFacts): CounterVerdict {
  if (facts.max !== undefined || a.raw === undefined || b.raw === undefined) return classifyDecrease(a.value, b.value, facts.max);
  return classifyDecrease(a.raw, b.raw, undefined, facts.rawRange !== undefined ? [facts.rawRange, ...WRAP_LIMITS] : WRAP_LIMITS);
}
