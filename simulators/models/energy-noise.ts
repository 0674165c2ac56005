/**
 * Smooth seeded noise as a pure function of time: the same seed and instant always give the same
 * value, whatever the step size or the order of calls (so a replay at another speed matches).
 */

function hash(seed: number, k: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(k | 0, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Value noise in [0, 1): knots every `periodMs`, cosine-interpolated. */
export function valueNoise(seed: number, ts: number, periodMs: number): number {
  const x = ts / periodMs;
  const k = Math.floor(x);
  const f = x - k;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  const a = hash(seed, k);
  const b = hash(seed, k + 1);
  return a + (b - a) * w;
}

/** A stable seed for a named model instance. */
export function seedOf(seed: number, name: string): number {
  let h = 2166136261 ^ seed;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619);
  return h >>> 0;
}
