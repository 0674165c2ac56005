import { z } from 'zod';
import { parseDuration } from '../../gateway/model/config-units.js';

/**
 * Value generators of a simulated device written as data (a scenario's `devices:` section): each
 * metric's value as a function of simulated time, in the unit the profile reports it in. Pure and
 * seeded: the same seed and instant give the same value.
 *
 * - `55.2`, `true`, `"heating"`: a constant;
 * - `{ random: [min, max] }`: uniform, a new draw each `every` (default 1 step of 10 s);
 * - `{ sine: { mean, amplitude, period } }`: a day curve, or any period (`1h`, `1d`);
 * - `{ counter: { start, rate, per } }`: grows by `rate` each `per` (`12.5` per `1h`), a meter's total.
 */
const duration = z.string().refine((s) => (parseDuration(s) ?? 0) > 0, { message: 'a duration such as 10s, 1h, 1d' });
export const generatorSchema = z.union([
  z.number(),
  z.boolean(),
  z.string(),
  z.strictObject({ random: z.tuple([z.number(), z.number()]), every: duration.default('10s') }),
  z.strictObject({ sine: z.strictObject({ mean: z.number(), amplitude: z.number(), period: duration, phase: z.number().default(0) }) }),
  z.strictObject({ counter: z.strictObject({ start: z.number().default(0), rate: z.number().min(0), per: duration }) }),
]);
export type Generator = z.infer<typeof generatorSchema>;

/** A 32-bit hash → [0, 1): the draw of one metric in one slot of time, from the seed. */
function unit(seed: number, metric: string, slot: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const ch of `${metric}:${slot}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h / 2 ** 32;
}

/** The value of one generator at simulated time `t` (ms), counted from `t0`. */
export function valueAt(g: Generator, metric: string, t: number, t0: number, seed: number): number | boolean | string {
  if (typeof g !== 'object') return g;
  if ('random' in g) {
    const every = parseDuration(g.every) as number;
    const [lo, hi] = g.random;
    return lo + (hi - lo) * unit(seed, metric, Math.floor(t / every));
  }
  if ('sine' in g) {
    const period = parseDuration(g.sine.period) as number;
    return g.sine.mean + g.sine.amplitude * Math.sin((2 * Math.PI * t) / period + g.sine.phase);
  }
  const per = parseDuration(g.counter.per) as number;
  return g.counter.start + (g.counter.rate * Math.max(0, t - t0)) / per;
}
