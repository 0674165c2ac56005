/** Time is injected so tests and accelerated simulations are deterministic. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Clock milliseconds per wall-clock millisecond (an accelerated simulation's speed); 1 when absent. */
  readonly rate?: number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

/**
 * Simulated time running `speed` times faster than the wall clock, starting at `start`.
 * Used by simulators; the gateway itself runs on the system clock.
 */
export class AcceleratedClock implements Clock {
  private readonly wallStart: number;
  constructor(
    private readonly start: number,
    private readonly speed: number,
    private readonly wall: Clock = systemClock,
  ) {
    this.wallStart = wall.now();
  }
  get rate(): number {
    return this.speed;
  }
  now(): number {
    return Math.floor(this.start + (this.wall.now() - this.wallStart) * this.speed);
  }
}

/** The clock a config runs on: the system clock, or an accelerated one when the simulators run faster or from another start. */
export function simulationClock(sim: { enabled: boolean; speed: number; start?: string | undefined }): Clock {
  return sim.enabled && (sim.speed !== 1 || sim.start) ? new AcceleratedClock(sim.start ? Date.parse(sim.start) : Date.now(), sim.speed) : systemClock;
}
