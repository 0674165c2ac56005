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
  /** Simulated time reached at `effWall` ms of unstalled wall time since go(); it never goes back. */
  private sim: number;
  private effWall = 0;
  /** Where the speed changes (simulated ms), ascending. */
  private readonly bounds: number[];
  private timer: NodeJS.Timeout | undefined;
  constructor(
    start: number,
    private readonly speed: number,
    private readonly slow?: SlowEdges,
  ) {
    this.sim = start;
    this.bounds = (slow?.at ?? []).flatMap((x) => [x - slow!.within, x + slow!.within]).sort((a, b) => a - b);
  }
  /**
   * A day from 15 minutes before `dayStart` to past its end (a day's KPI tests), at a fifth of
   * the speed for ten simulated minutes around both midnights.
   */
  static overDay(dayStart: number, dayEnd: number, speed: number): StallFreeClock {
    return new StallFreeClock(dayStart - 15 * 60_000, speed, { at: [dayStart, dayEnd], within: 10 * 60_000, speed: speed / 5 });
  }
  now(): number {
    // Account for a stall here too, not only in the tick: the first callback to run after a
    // stall must not see the stalled time (the clock is monotonic, a jump would stay).
    if (this.timer !== undefined) this.advance(this.observe() - this.wall0 - this.lostMs);
    return Math.floor(this.sim);
  }
  /** Clock ms per wall ms (as AcceleratedClock says it), for parts that pace themselves by it. */
  get rate(): number {
    return this.speedAt(this.sim);
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
  /** Moves simulated time to `eff` ms of unstalled wall time, speed by speed across the slow spans. */
  private advance(eff: number): void {
    let left = eff - this.effWall;
    if (left <= 0) return;
    this.effWall = eff;
    while (left > 0) {
      const speed = this.speedAt(this.sim);
      const edge = this.bounds.find((b) => b > this.sim) ?? Infinity;
      const wallToEdge = (edge - this.sim) / speed;
      if (left <= wallToEdge) {
        this.sim += left * speed;
        return;
      }
      this.sim = edge;
      left -= wallToEdge;
    }
  }
}
