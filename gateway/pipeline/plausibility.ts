import { DEVICE_FACTS, type MetricDef, type PlausibleDef } from '../model/catalog.js';
import { PairMap } from '../model/pair-map.js';
import { convert } from '../model/units.js';
import type { Quality, Reading } from '../model/types.js';

/**
 * Plausibility: a value a device cannot physically produce is not `good`. Pure apart from the
 * state it is given (the last plausible counter value per series, the devices' nameplate facts).
 *
 * - A gauge beyond the device's rated power (nameplate fact `rated_power`, or the device option
 *   `rated_power`, times the catalog's `ratedFactor`; without either, the catalog's `max`) by more
 *   than the margin is `implausible`: `uncertain` up to BAD_RATIO × that limit, `bad` beyond.
 * - A counter step larger than that power × the time elapsed (plus the margin, plus SLACK_H hours of
 *   it for coarse registers: a kWh-resolution meter steps 1000 Wh at once) is `implausible` and
 *   `bad`. The state keeps the last plausible value, so one corrupt reading does not make the next
 *   good one look like a reset; a counter that stays at its new level for REBASE_AFTER readings was
 *   really set there (a meter swapped) and is taken as a reset from then on (REBASE_AFTER readings
 *   over at least REBASE_MIN_MS).
 * The raw value is kept; the pipeline sets quality and reason and counts it by reason.
 */

export const DEFAULT_MARGIN = 0.1;
/** Beyond this multiple of the limit a value is `bad`; between 1 and it, `uncertain`. */
export const BAD_RATIO = 1.5;
/** Headroom of a counter step, in hours at the rated power, for registers of coarse resolution. */
export const SLACK_H = 0.25;
/**
 * Readings at a new level (consistent with each other, at distinct times, over at least
 * REBASE_MIN_MS) that make it a reset. The same reading polled again while the clock stands still
 * counts once: it is one observation, and its quality must not change between two copies.
 */
export const REBASE_AFTER = 3;
export const REBASE_MIN_MS = 60_000;

export type Verdict = { quality: Exclude<Quality, 'good'>; reason: 'implausible' | 'counter_reset' } | undefined;

export interface DeviceLimits {
  /** Configured rated power in W (device option `rated_power`). */
  ratedPower?: number;
  /** Configured margin (device option `plausibility_margin`). */
  margin?: number;
}

/** Reading the device's options, as the resolved site gives them. */
export function limitsOf(options: Readonly<Record<string, string | number | boolean>> | undefined): DeviceLimits {
  const out: DeviceLimits = {};
  const p = options?.['rated_power'];
  const m = options?.['plausibility_margin'];
  if (typeof p === 'number' && p > 0) out.ratedPower = p;
  if (typeof m === 'number' && m >= 0) out.margin = m;
  return out;
}

/** A gauge value against its limit. */
export function judgeGauge(value: number, limit: number | undefined, margin: number): Verdict {
  if (limit === undefined || !(limit > 0)) return undefined;
  const ratio = Math.abs(value) / (limit * (1 + margin));
  if (ratio <= 1) return undefined;
  return { quality: ratio <= BAD_RATIO ? 'uncertain' : 'bad', reason: 'implausible' };
}

/**
 * A counter step (same unit as the rate × hours) against the largest rate over the elapsed time.
 * Always `bad` when beyond: a counter's value carries every step before it, and the store's hourly
 * rollups (which long-window KPIs read) take uncertain values in.
 */
export function judgeStep(step: number, elapsedMs: number, rate: number | undefined, margin: number): Verdict {
  if (rate === undefined || !(rate > 0) || step <= 0) return undefined;
  const allowed = rate * (1 + margin) * (Math.max(0, elapsedMs) / 3_600_000 + SLACK_H);
  return step > allowed ? { quality: 'bad', reason: 'implausible' } : undefined;
}

interface CounterMemo {
  ts: number;
  value: number;
  /** Readings at a new level that did not fit the last plausible value. */
  pending?: { first: number; ts: number; value: number; n: number } | undefined;
}

export interface PlausibilityDeps {
  /** The device's configured limits (its options); read per sample, so a reload takes effect. */
  limits(device: string): DeviceLimits;
}

/** Per-gateway plausibility state: nameplate facts and the last plausible value of each counter. */
export class Plausibility {
  private readonly facts = new Map<string, number>();
  private readonly counters: PairMap<CounterMemo>;

  constructor(
    private readonly deps: PlausibilityDeps,
    maxSeries = 200_000,
  ) {
    this.counters = new PairMap(maxSeries);
  }

  /**
   * A nameplate fact (`rated_power`) is remembered and consumed: it is not a sample. Returns
   * true when the reading was a fact.
   */
  learn(r: Reading): boolean {
    const unit = DEVICE_FACTS[r.metric];
    if (unit === undefined) return false;
    const n = typeof r.value === 'number' ? r.value : typeof r.value === 'bigint' ? Number(r.value) : NaN;
    const v = r.quality === 'bad' || !Number.isFinite(n) ? undefined : convert(n, r.unit ?? unit, unit);
    if (v !== undefined && v > 0) this.facts.set(r.device, v);
    return true;
  }

  /** The device's rated power in W: configured, else its nameplate, else undefined. */
  ratedPower(device: string): number | undefined {
    return this.deps.limits(device).ratedPower ?? this.facts.get(device);
  }

  /** Judge one numeric value (catalog unit). Undefined: plausible. */
  judge(device: string, metric: string, def: MetricDef, ts: number, value: number): Verdict {
    const p = def.plausible;
    if (!p) return undefined;
    const limits = this.deps.limits(device);
    const margin = limits.margin ?? p.margin ?? DEFAULT_MARGIN;
    const power = this.limitOf(device, p);
    if (def.kind !== 'counter') return judgeGauge(value, power ?? p.max, margin);
    return this.judgeCounter(device, metric, ts, value, power ?? p.maxRate, margin);
  }

  private limitOf(device: string, p: PlausibleDef): number | undefined {
    if (p.ratedFactor === undefined) return undefined;
    const rated = this.ratedPower(device);
    return rated === undefined ? undefined : rated * p.ratedFactor;
  }

  private judgeCounter(device: string, metric: string, ts: number, value: number, rate: number | undefined, margin: number): Verdict {
    const memo = this.counters.get(device, metric);
    if (!memo) {
      this.counters.set(device, metric, { ts, value });
      return undefined;
    }
    // Out of order, or going down: counters.ts judges decreases (reset, rollover).
    if (ts < memo.ts) return undefined;
    const verdict = judgeStep(value - memo.value, ts - memo.ts, rate, margin);
    if (!verdict) {
      settle(memo, ts, value);
      return undefined;
    }
    const pend = memo.pending;
    if (pend && ts === pend.ts && value === pend.value) return verdict;
    const consistent = pend !== undefined && ts > pend.ts && value >= pend.value && judgeStep(value - pend.value, ts - pend.ts, rate, margin) === undefined;
    const next = consistent ? { first: pend.first, ts, value, n: pend.n + 1 } : { first: ts, ts, value, n: 1 };
    if (next.n >= REBASE_AFTER && ts - next.first >= REBASE_MIN_MS) {
      // It stayed there: a new meter or a counter set on purpose. From here on, the new level.
      settle(memo, ts, value);
      return { quality: 'uncertain', reason: 'counter_reset' };
    }
    memo.pending = next;
    return verdict;
  }
}

/** A counter's new plausible level, in place (one memo per series, not one per sample). */
function settle(memo: CounterMemo, ts: number, value: number): void {
  memo.ts = ts;
  memo.value = value;
  memo.pending = undefined;
}
