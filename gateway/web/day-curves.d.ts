// Types of day-curves.js for the TypeScript tests.
export class DayCurves {
  constructor(dayStart: number, bucketMs: number, names: Record<string, 'sum' | 'mean'>, carryBuckets?: number);
  readonly n: number;
  dayStart: number;
  x: number[];
  y: Record<string, (number | null)[]>;
  reset(dayStart: number): void;
  index(ts: number): number;
  put(name: string, device: string, ts: number, value: unknown): number;
  derive(fn: (...v: number[]) => number, ...names: string[]): (number | null)[];
}
