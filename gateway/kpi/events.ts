/**
 * Pure maths of the event KPIs: a start (retrieval requested, parcel arrived) is matched with
 * its completion by key (request_id, pseudonymised parcel id); durations give p95 and the share
 * within a promise (300 s, 1800 s).
 *
 * Rules (documented in kpi/README.md):
 * - a start belongs to the window it happened in; its completion may come later;
 * - the first completion at or after the start with the same key completes it; a key that
 *   starts twice is matched start by start in time order;
 * - p95 is the nearest-rank percentile (the ⌈0.95·n⌉-th smallest), so it is always a real
 *   observed duration and equals a ground truth computed the same way exactly;
 * - an unmatched start is "open". While its window runs, an open start older than the promise
 *   is already a certain failure and counts; a younger one is pending and is left out. Once
 *   the window has closed every open start counts against the target: as a failure in the
 *   share, and as an unbounded duration in the p95 (if the p95 falls on one, the value is
 *   unknown but the result is marked `beyond`: above any finite bound).
 */

export interface KeyedEvent {
  ts: number;
  key: string;
}

export interface MatchResult {
  matched: { key: string; start: number; end: number }[];
  open: { key: string; start: number }[];
  /** Completions with no start in the set (their start was in an earlier window, or was lost). */
  unmatchedEnds: number;
}

export function matchEvents(starts: readonly KeyedEvent[], ends: readonly KeyedEvent[]): MatchResult {
  const byKey = new Map<string, number[]>();
  for (const e of [...ends].sort((a, b) => a.ts - b.ts)) {
    const list = byKey.get(e.key);
    if (list) list.push(e.ts);
    else byKey.set(e.key, [e.ts]);
  }
  const res: MatchResult = { matched: [], open: [], unmatchedEnds: 0 };
  for (const s of [...starts].sort((a, b) => a.ts - b.ts)) {
    const list = byKey.get(s.key);
    const i = list ? list.findIndex((t) => t >= s.ts) : -1;
    if (list && i >= 0) {
      const end = list[i] as number;
      list.splice(i, 1);
      res.matched.push({ key: s.key, start: s.ts, end });
    } else res.open.push({ key: s.key, start: s.ts });
  }
  for (const list of byKey.values()) res.unmatchedEnds += list.length;
  return res;
}

/** Nearest-rank percentile of ascending values (p in 0..1); undefined for no values. */
export function percentile(sortedAsc: readonly number[], p: number): number | undefined {
  if (sortedAsc.length === 0) return undefined;
  // The epsilon keeps 0.95 × 20 (= 19.000000000000004 for some n in floating point) at rank 19.
  const rank = Math.max(1, Math.ceil(p * sortedAsc.length - 1e-9));
  return sortedAsc[Math.min(rank, sortedAsc.length) - 1];
}

export interface PromiseStats {
  /** p95 in seconds; null when nothing counts or when it falls on an open start. */
  p95: number | null;
  /** Share completed within the promise; null when nothing counts. */
  within: number | null;
  completed: number;
  open: number;
  /** Open starts that count (failures): all once the window closed, else those past the promise. */
  openCounted: number;
  /** The p95 falls on an open start: it exceeds every finite bound. */
  beyond: boolean;
}

export function promiseStats(m: MatchResult, promiseMs: number, now: number, windowClosed: boolean): PromiseStats {
  const durations = m.matched.map((x) => x.end - x.start);
  const counted = m.open.filter((o) => windowClosed || now - o.start > promiseMs);
  const all = [...durations.sort((a, b) => a - b), ...counted.map(() => Number.POSITIVE_INFINITY)];
  const p = percentile(all, 0.95);
  const n = all.length;
  return {
    p95: p === undefined || !Number.isFinite(p) ? null : p / 1000,
    within: n === 0 ? null : durations.filter((d) => d <= promiseMs).length / n,
    completed: durations.length,
    open: m.open.length,
    openCounted: counted.length,
    beyond: p !== undefined && !Number.isFinite(p),
  };
}

/**
 * Parcels deposited more than `overdueMs` before `ref` and not picked up or delivered by `ref`
 * (a stock measured at the window's end, or now for a window in progress).
 */
export function overdueCount(deposits: readonly KeyedEvent[], completions: readonly KeyedEvent[], ref: number, overdueMs: number): number {
  const done = new Map<string, number[]>();
  for (const c of completions) {
    if (c.ts > ref) continue;
    const list = done.get(c.key);
    if (list) list.push(c.ts);
    else done.set(c.key, [c.ts]);
  }
  let n = 0;
  for (const d of deposits) {
    if (d.ts > ref - overdueMs) continue;
    if (!(done.get(d.key) ?? []).some((t) => t >= d.ts)) n++;
  }
  return n;
}
