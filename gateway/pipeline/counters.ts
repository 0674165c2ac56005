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

/** Last value per counter series, bounded (oldest series evicted first). */
export class CounterState {
  private readonly last = new Map<string, { ts: number; value: number; raw: number }>();
  constructor(private readonly maxSeries = 200_000) {}

  /**
   * Compare with the previous value in time order; out-of-order readings do not move the state
   * back. `value` is in catalog units, `reported` in the unit the driver gave it (before conversion).
   */
  check(key: string, ts: number, value: number, facts: CounterFacts = {}, reported = value): CounterVerdict {
    const prev = this.last.get(key);
    if (prev && ts < prev.ts) return 'ok';
    const scale = facts.scale !== undefined && facts.scale > 0 ? facts.scale : 1;
    const raw = reported / scale;
    let verdict: CounterVerdict = 'ok';
    if (prev) {
      verdict =
        facts.max !== undefined
          ? classifyDecrease(prev.value, value, facts.max)
          : classifyDecrease(prev.raw, raw, undefined, facts.rawRange !== undefined ? [facts.rawRange, ...WRAP_LIMITS] : WRAP_LIMITS);
    }
    if (!prev && this.last.size >= this.maxSeries) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    this.last.set(key, { ts, value, raw });
    return verdict;
  }

  /** A series' last value from the store at start (its raw value is taken as the value itself). */
  seed(key: string, ts: number, value: number, raw = value): void {
    this.last.set(key, { ts, value, raw });
  }
}
