/** Simulated time that runs slower around given instants (a day's edges). */
export interface SlowEdges {
  /** Instants (epoch ms, simulated) around which time runs slower. */
  at: readonly number[];
  /** Simulated ms either side of each instant. */
  within: number;
  /** Clock ms per wall ms there. */
  speed: number;
}

/**
 * Accelerated time that stands still until `go()` (a slow start must not eat the margin before
 * midnight) and while this process is stalled: at 8640× a 100 ms pause of the event loop (a GC, a
 * busy machine) would otherwise be 14 simulated minutes without a poll. Monotonic.
 *
 * `slow` runs time slower around given instants: a KPI of the day splits the counter step that
 * straddles midnight linearly, and the step is as long as the polls' wall interval times the
 * speed. A loaded machine that slips polls (not a stall of this process, which is kept out) makes
 * that step, and so the KPI's error, grow with the speed; near the edges the speed is lower.
 */
export class StallFreeClock {
  lostMs = 0;
  private wall0 = 0;
  private last = 0;
  private prev: number;
  /** Simulated time reached at `effWall` ms of unstalled wall time since go(). */
  private sim: number;
  private effWall = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly start: number,
    private readonly speed: number,
    private readonly slow?: SlowEdges,
  ) {
    this.prev = start;
    this.sim = start;
  }
  now(): number {
    if (this.timer === undefined) return this.prev;
    // Account for a stall here too, not only in the tick: the first callback to run after a
    // stall must not see the stalled time (the clock is monotonic, a jump would stay).
    const t = this.observe();
    const v = Math.floor(this.advance(t - this.wall0 - this.lostMs));
    if (v > this.prev) this.prev = v;
    return this.prev;
  }
  /** Clock ms per wall ms (as AcceleratedClock says it), for parts that pace themselves by it. */
  get rate(): number {
    return this.speedAt(this.prev);
  }
  go(): void {
    this.wall0 = this.last = performance.now();
    this.timer = setInterval(() => this.observe(), 5);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  /** Wall time now; more than 15 ms since the last look (ticks come every 5 ms) was a stall. */
  private observe(): number {
    const t = performance.now();
    const late = t - this.last - 5;
    if (late > 10) this.lostMs += late;
    this.last = t;
    return t;
  }
  private speedAt(sim: number): number {
    const s = this.slow;
    return s && s.at.some((x) => sim >= x - s.within && sim < x + s.within) ? s.speed : this.speed;
  }
  /** Simulated time at `eff` ms of unstalled wall time, speed by speed across the slow spans. */
  private advance(eff: number): number {
    let left = eff - this.effWall;
    if (left <= 0) return this.sim;
    this.effWall = eff;
    const s = this.slow;
    while (left > 0) {
      const speed = this.speedAt(this.sim);
      // The next simulated instant at which the speed changes.
      let edge = Infinity;
      for (const x of s?.at ?? []) for (const b of [x - s!.within, x + s!.within]) if (b > this.sim && b < edge) edge = b;
      const wallToEdge = (edge - this.sim) / speed;
      if (left <= wallToEdge) {
        this.sim += left * speed;
        break;
      }
      this.sim = edge;
      left -= wallToEdge;
    }
    return this.sim;
  }
}
