import type { TargetConfig } from '../config/schema.js';

/**
 * A target compares a KPI result with its bound. Pure: the previous status comes in, the new
 * one goes out; the engine keeps the state and raises alerts on transitions.
 */

export type TargetStatus = 'met' | 'missed' | 'unknown';

export interface TargetInput {
  value: number | null;
  coverage: number;
  /** Share of the window that has passed (1 when closed; absent: judge as it stands). */
  elapsed?: number;
  /** The value is known to exceed every finite bound (an open start at the p95 rank). */
  beyond?: boolean;
}

export interface TargetVerdict {
  status: TargetStatus;
  /** Why a status is unknown: not enough good input, nothing to measure yet, or too little of the window has passed. */
  reason?: 'low_coverage' | 'no_data' | 'too_early';
}

export type TargetBounds = Pick<TargetConfig, 'min' | 'max' | 'min_coverage' | 'hysteresis'> & Partial<Pick<TargetConfig, 'min_elapsed' | 'window'>>;

/**
 * How much of a running window must have passed before it is judged, unless the target says:
 * none for the rolling 15 minutes and the hour, a quarter for a day or longer. A month's
 * self-sufficiency at 00:05 on the 1st is 0 (night, no sun): that is not a missed target.
 */
export function minElapsed(t: TargetBounds): number {
  if (t.min_elapsed !== undefined) return t.min_elapsed;
  return t.window === undefined || t.window === '15m' || t.window === 'hour' ? 0 : 0.25;
}

/**
 * Status of one result. `lastKnown` is the previous met/missed status: a missed target comes
 * back to met only once the value is inside the bound by the hysteresis distance.
 */
export function judge(r: TargetInput, t: TargetBounds, lastKnown?: TargetStatus): TargetVerdict {
  // A closed window has elapsed 1, never under a share of at most 1: it is always judged.
  if (r.elapsed !== undefined && r.elapsed < minElapsed(t)) return { status: 'unknown', reason: 'too_early' };
  if (r.coverage < t.min_coverage) return { status: 'unknown', reason: 'low_coverage' };
  if (r.beyond && t.max !== undefined) return { status: 'missed' };
  if (r.value === null || !Number.isFinite(r.value)) return { status: 'unknown', reason: 'no_data' };
  const h = lastKnown === 'missed' ? t.hysteresis : 0;
  const okMin = t.min === undefined || r.value >= t.min + h;
  const okMax = t.max === undefined || r.value <= t.max - h;
  if (okMin && okMax) return { status: 'met' };
  // Inside the plain bound but not yet by the hysteresis distance: stays missed.
  return { status: 'missed' };
}

/** The bound as text, e.g. "≤ 300" or "≥ 0.3". */
export function boundText(t: Pick<TargetConfig, 'min' | 'max'>): string {
  if (t.min !== undefined && t.max !== undefined) return `${t.min}…${t.max}`;
  if (t.max !== undefined) return `≤ ${t.max}`;
  if (t.min !== undefined) return `≥ ${t.min}`;
  return '';
}

/** A stable identity for a target (its position can change when the config is edited). */
export function targetKey(t: Pick<TargetConfig, 'kpi' | 'window' | 'scope' | 'min' | 'max'>): string {
  return `${t.kpi}/${t.window}/${scopeText(t.scope)}/${boundText(t)}`;
}

export function scopeText(s: TargetConfig['scope']): string {
  return 'site' in s ? 'site' : 'device' in s ? `device=${s.device}` : `${s.tag}=${s.value}`;
}
