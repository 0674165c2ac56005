import { FLAG_OK, FLAG_RESET, FLAG_ROLLOVER, type CounterFlag, type CounterPoint } from './energy.js';
import type { RawRow } from '../store/kpi-reads.js';

/** Stored rows → the points the pure maths takes. */

/** Uncertain samples whose value is not a fresh reading, or not one the device can produce. */
const UNUSABLE = new Set(['stale', 'device_offline', 'implausible']);

export function usable(r: RawRow): boolean {
  return r.quality === 'good' || (r.quality === 'uncertain' && !UNUSABLE.has(r.reason ?? ''));
}

export function toCounterPoint(r: RawRow): CounterPoint | undefined {
  if (!usable(r) || typeof r.value !== 'number' || !Number.isFinite(r.value)) return undefined;
  const flag: CounterFlag = r.reason === 'counter_reset' ? FLAG_RESET : r.reason === 'counter_rollover' ? FLAG_ROLLOVER : FLAG_OK;
  return { ts: r.ts, v: r.value, flag };
}

export function stateText(v: unknown): string {
  if (v === 1 || v === true) return 'true';
  if (v === 0 || v === false) return 'false';
  return String(v);
}
