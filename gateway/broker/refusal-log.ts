/**
 * At most one log line per key and interval (a QoS 1 device refused for its topic resends
 * forever: the operator needs one line naming it, not one per attempt). Bounded.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly opts: { intervalMs: number; now: () => number; maxKeys?: number }) {}

  /** The number of lines suppressed since the last one when this one should be logged; else undefined. */
  take(key: string): number | undefined {
    const now = this.opts.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.opts.intervalMs) {
      e.suppressed++;
      return undefined;
    }
    if (!e && this.last.size >= (this.opts.maxKeys ?? 1000)) this.last.clear();
    this.last.set(key, { at: now, suppressed: 0 });
    return e?.suppressed ?? 0;
  }
}

/** Label values for a per-topic counter, bounded so a client cannot grow /metrics without end. */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max = 1000) {}

  topic(user: string, topic: string): string {
    const key = `${user}\u0000${topic}`;
    if (this.seen.has(key)) return topic;
    if (this.seen.size >= this.max) return '(other)';
    this.seen.add(key);
    return topic;
  }
}
