/**
 * Exponential backoff with jitter for a sink that cannot deliver: the n-th consecutive
 * failure waits between half and all of min(max, base·2ⁿ⁻¹) ("equal jitter": spread out, so
 * many gateways do not hammer a recovering server in step, yet never zero). A server's
 * Retry-After is honoured as a lower bound, capped so a bogus header cannot park a sink for days.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Longest Retry-After honoured. */
  retryAfterCapMs: number;
}

export function backoffPolicy(maxMs: number): BackoffPolicy {
  return { baseMs: Math.min(250, maxMs), maxMs, retryAfterCapMs: Math.max(maxMs, 15 * 60_000) };
}

export function backoffDelay(
  failures: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const n = Math.max(1, failures);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(n - 1, 30));
  const jittered = ceiling / 2 + random() * (ceiling / 2);
  const delay = retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, policy.retryAfterCapMs));
  return Math.round(delay);
}
