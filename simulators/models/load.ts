import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import { valueNoise } from './energy-noise.js';

/**
 * The community's electrical base load (lighting, lifts, pumps, households), without the heat
 * pumps and the battery: a daily curve in local time with seeded noise. Pure function of time.
 */
const SHAPE: HourlyCurve = [0.55, 0.5, 0.48, 0.47, 0.48, 0.55, 0.8, 1.1, 1.05, 0.95, 0.9, 0.95, 1, 0.92, 0.88, 0.9, 0.98, 1.15, 1.45, 1.6, 1.55, 1.35, 1.0, 0.7];

export class CommunityLoad {
  power = 0;
  consumedWh = 0;
  constructor(
    /** Mean load, W. */
    readonly meanW: number,
    private readonly timezone: string,
    private readonly seed: number,
  ) {}

  at(ts: number): number {
    const shape = curveAt(SHAPE, localHour(this.timezone, ts));
    return this.meanW * shape * (0.9 + 0.2 * valueNoise(this.seed, ts, 10 * 60_000));
  }

  step(ts: number, dtMs: number): void {
    this.power = this.at(ts);
    this.consumedWh += (this.power * dtMs) / 3_600_000;
  }
}
