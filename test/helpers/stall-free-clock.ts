/**
 * Accelerated time that stands still until `go()` (a slow start must not eat the margin before
 * midnight) and while this process is stalled: at 8640× a 100 ms pause of the event loop (a GC, a
 * busy machine) would otherwise be 14 simulated minutes without a poll. Monotonic.
 */
export class StallFreeClock {
  lostMs = 0;
  private wall0 = 0;
  private last = 0;
  private prev: number;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly start: number,
    private readonly speed: number,
  ) {
    this.prev = start;
  }
  now(): number {
    if (this.timer === undefined) return this.prev;
    // Account for a stall here too, not only in the tick: the first callback to run after a
    // stall must not see the stalled time (the clock is monotonic, a jump would stay).
    const t = this.observe();
    const v = this.start + Math.floor((t - this.wall0 - this.lostMs) * this.speed);
    if (v > this.prev) this.prev = v;
    return this.prev;
  }
  /** Clock ms per wall ms (as AcceleratedClock says it), for parts that pace themselves by it. */
  get rate(): number {
    return this.speed;
  }
  go(): void {
    this.wall0 = this.last = performance.now();
    this.timer = setInterval(() => this.observe(), 5);
  }
  /** Wall time now; more than 15 ms since the last look (ticks come every 5 ms) was a stall. */
  private observe(): number {
    const t = performance.now();
    const late = t - this.last - 5;
    if (late > 10) this.lostMs += late;
    this.last = t;
    return t;
  }
  stop(): void {
    clearInterval(this.timer);
  }
}
