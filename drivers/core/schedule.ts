/**
 * Timing shared by the polling drivers (Modbus, the meter buses): exponential backoff with jitter
 * for reconnects and quarantine, and absolute poll schedules. Pure.
 */

/**
 * The wait before retry number `attempt` (0 for the first): `min · 2^attempt`, capped at `max`,
 * spread by ±`jitter` so that links or devices that failed together do not retry together;
 * never beyond the cap.
 */
export function backoffDelay(attempt: number, min: number, max: number, random: () => number, jitter = 0.25): number {
  const base = Math.min(max, min * 2 ** Math.min(attempt, 30));
  return Math.min(max, base * (1 - jitter + 2 * jitter * random()));
}

/**
 * When a poll that was due at `at` is next due: one period later, not one period after it ended,
 * so period drift never accumulates; periods missed entirely (a stalled process) are skipped.
 */
export function nextDue(at: number, period: number, now: number): number {
  let next = at + period;
  if (next < now) next += Math.ceil((now - next) / period) * period;
  return next;
}
