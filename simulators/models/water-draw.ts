import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import { valueNoise } from './energy-noise.js';

/**
 * Water drawn through one metered pipe (a building riser, a reclaimed-water loop, a rainwater
 * tank outlet): a daily curve in local time with seeded noise. Exact ground truth: m³ drawn.
 */
export type DrawKind = 'potable' | 'reclaimed' | 'rainwater' | 'hot';

const SHAPES: Record<DrawKind, HourlyCurve> = {
  potable: [0.5, 0.3, 0.2, 0.2, 0.3, 1, 3.5, 5.5, 4.5, 3, 2.5, 3, 3.5, 2.5, 2, 2, 2.5, 3.5, 5, 5.5, 5, 4, 2.5, 1],
  hot: [0.2, 0.1, 0.1, 0.1, 0.2, 0.8, 4, 5, 3, 1.5, 1, 1.5, 2, 1, 1, 1, 1.5, 3, 5, 6, 5.5, 4, 2, 0.6],
  reclaimed: [0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 3.5, 5, 4, 2.5, 2, 2.5, 3, 2, 2, 2, 2.5, 3.5, 4.5, 5, 4.5, 3.5, 2, 0.8],
  rainwater: [0, 0, 0, 0, 0, 3, 8, 6, 2, 1, 1, 1, 1, 1, 1, 2, 5, 7, 3, 1, 0, 0, 0, 0],
};
const MEAN = Object.fromEntries(Object.entries(SHAPES).map(([k, c]) => [k, c.reduce((a, b) => a + b, 0) / 24])) as Record<DrawKind, number>;

export class WaterDraw {
  flowM3h = 0;
  drawnM3 = 0;
  constructor(
    readonly kind: DrawKind,
    readonly m3PerDay: number,
    private readonly timezone: string,
    private readonly seed: number,
  ) {}

  step(ts: number, dtMs: number): void {
    const shape = curveAt(SHAPES[this.kind], localHour(this.timezone, ts)) / MEAN[this.kind];
    this.flowM3h = (this.m3PerDay / 24) * shape * (0.7 + 0.6 * valueNoise(this.seed, ts, 5 * 60_000));
    this.drawnM3 += (this.flowM3h * dtMs) / 3_600_000;
  }
}
