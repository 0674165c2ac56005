/**
 * Counter continuity. A counter only grows; when it goes down the cause is either a rollover
 * (a register wrapped at its maximum) or a reset (a meter replaced or cleared). Either way the
 * sample is flagged so no KPI ever sees a negative delta, and the raw value is kept.
 */
export type CounterVerdict = 'ok' | 'counter_reset' | 'counter_rollover';

/** Register maxima seen in the field, in raw units before scaling is unknown here, so checked relative to the previous value. */
const WRAP_LIMITS = [2 ** 16, 2 ** 32, 1e5, 1e6, 1e7, 1e8, 1e9];

export function classifyDecrease(prev: number, next: number, rolloverAt?: number): CounterVerdict {
  if (next >= prev) return 'ok';
  // Float meters jitter in the last digit; a relative drop below 1e-9 is noise, not a reset.
  if (prev - next <= Math.abs(prev) * 1e-9) return 'ok';
  if (rolloverAt !== undefined) {
    return prev >= rolloverAt * 0.9 && next < rolloverAt * 0.1 ? 'counter_rollover' : 'counter_reset';
  }
  // Without a declared maximum: a previous value within 10 % below a common register limit,
  // and a new value near zero, is a wrap.
  for (const lim of WRAP_LIMITS) {
    if (prev <= lim && prev >= lim * 0.9 && next < lim * 0.1) return 'counter_rollover';
  }
  return 'counter_reset';
}

/** Last value per counter series, bounded (oldest series evicted first). */
export class CounterState {
  private readonly last = new Map<string, { ts: number; value: number }>();
  constructor(private readonly maxSeries = 200_000) {}

  /** Compare with the previous value in time order; out-of-order readings do not move the state back. */
  check(key: string, ts: number, value: number, rolloverAt?: number): CounterVerdict {
    const prev = this.last.get(key);
    if (prev && ts < prev.ts) return 'ok';
    const verdict = prev ? classifyDecrease(prev.value, value, rolloverAt) : 'ok';
    if (!prev && this.last.size >= this.maxSeries) {
      const oldest = this.last.keys().next().value;
      if (oldest !== undefined) this.last.delete(oldest);
    }
    this.last.set(key, { ts, value });
    return verdict;
  }

  seed(key: string, ts: number, value: number): void {
    this.last.set(key, { ts, value });
  }
}
