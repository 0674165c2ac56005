import { describe, expect, it } from 'vitest';
import {
  FLAG_OK as OK,
  FLAG_RESET as RESET,
  FLAG_ROLLOVER as ROLL,
  cadenceGap,
  counterBlocks,
  counterOverWindow,
  coverageOfPoints,
  integrateRate,
  segmentArea,
  stateDurations,
  stepDelta,
  type CounterPoint,
} from '../../../gateway/kpi/energy.js';

const MIN = 60_000;
const opts = { maxGap: 15 * MIN, now: 10 ** 12 };
const pts = (...xs: [number, number, (0 | 1 | 2)?][]): CounterPoint[] => xs.map(([m, v, f]) => ({ ts: m * MIN, v, flag: f ?? OK }));

describe('stepDelta', () => {
  it.each([
    ['growth', 100, 150, OK, undefined, 50],
    ['flat', 100, 100, OK, undefined, 0],
    ['float jitter below 1e-9 relative', 1e9, 1e9 - 0.5, OK, undefined, 0],
    ['flagged reset: new baseline', 5000, 12, RESET, undefined, null],
    ['flagged rollover, declared wrap', 65_000, 300, ROLL, 65_536, 836],
    ['flagged rollover, wrap inferred like the pipeline', 4_294_000_000, 1_000, ROLL, undefined, 967_296 + 1_000],
    ['flagged rollover without a usable wrap is a reset', 5000, 12, ROLL, undefined, null],
    ['unflagged decrease that looks like a wrap', 99_990, 5, OK, undefined, 15],
    ['unflagged decrease otherwise is a reset', 5000, 4000, OK, undefined, null],
  ] as const)('%s', (_name, prev, next, flag, wrap, expected) => {
    expect(stepDelta(prev, next, flag, wrap)).toBe(expected);
  });
});

describe('counterOverWindow', () => {
  it('splits boundary steps in proportion to time', () => {
    // 10 Wh per minute; window [5, 25) min; samples every 10 min starting at 0.
    const r = counterOverWindow(pts([0, 0], [10, 100], [20, 200], [30, 300]), 5 * MIN, 25 * MIN, opts);
    expect(r.delta).toBeCloseTo(200, 9);
    expect(r.coveredMs).toBe(20 * MIN);
  });

  it('never goes negative across a reset, and the reset step is not covered', () => {
    const r = counterOverWindow(pts([0, 1000], [10, 1100], [20, 5, RESET], [30, 105]), 0, 30 * MIN, opts);
    expect(r.delta).toBe(200);
    expect(r.resets).toBe(1);
    expect(r.coveredMs).toBe(20 * MIN);
  });

  it('adds wrap − last + new at a rollover', () => {
    const r = counterOverWindow(pts([0, 65_400], [10, 65_500], [20, 64, ROLL], [30, 164]), 0, 30 * MIN, { ...opts, wrap: 65_536 });
    expect(r.delta).toBe(100 + 100 + 100);
    expect(r.rollovers).toBe(1);
  });

  it('bridges a long gap for energy but not for coverage', () => {
    const r = counterOverWindow(pts([0, 0], [10, 100], [190, 1900], [200, 2000]), 0, 200 * MIN, opts);
    expect(r.delta).toBe(2000);
    expect(r.coveredMs).toBe(20 * MIN);
  });

  it('counts the time since the newest sample as covered while it is not overdue', () => {
    const r = counterOverWindow(pts([0, 0], [10, 100]), 0, 60 * MIN, { ...opts, now: 14 * MIN });
    expect(r.coveredMs).toBe(14 * MIN);
    const late = counterOverWindow(pts([0, 0], [10, 100]), 0, 60 * MIN, { ...opts, now: 40 * MIN });
    expect(late.coveredMs).toBe(10 * MIN);
  });

  it('gives 15-minute blocks that add up to the window', () => {
    const p = pts(...Array.from({ length: 61 }, (_, i) => [i, i * i] as [number, number]));
    const blocks = counterBlocks(p, 0, 60 * MIN, 15 * MIN, opts);
    expect(blocks.map((b) => b.value)).toEqual([225, 900 - 225, 2025 - 900, 3600 - 2025]);
  });
});

describe('integrateRate (trapezoid)', () => {
  it('integrates a ramp exactly', () => {
    const r = integrateRate([{ ts: 0, v: 0 }, { ts: 60 * MIN, v: 1000 }], 0, 60 * MIN, 'all', { ...opts, maxGap: 2 * 60 * MIN });
    expect(r.integral / 3_600_000).toBeCloseTo(500, 9);
  });

  it('splits a sign change at the zero crossing (import vs export)', () => {
    expect(segmentArea(100, -100, 10, 'pos')).toBeCloseTo(250, 9);
    expect(segmentArea(100, -100, 10, 'neg')).toBeCloseTo(250, 9);
    expect(segmentArea(-50, -150, 10, 'pos')).toBe(0);
    expect(segmentArea(-50, -150, 10, 'neg')).toBe(1000);
  });

  it('does not bridge gaps longer than max_gap', () => {
    const p = [{ ts: 0, v: 600 }, { ts: 10 * MIN, v: 600 }, { ts: 50 * MIN, v: 600 }, { ts: 60 * MIN, v: 600 }];
    const r = integrateRate(p, 0, 60 * MIN, 'pos', opts);
    expect(r.integral / 3_600_000).toBeCloseTo(200, 9);
    expect(r.coveredMs).toBe(20 * MIN);
  });
});

describe('states and coverage', () => {
  it('a series on a slow cadence gets a gap limit of twice its usual step', () => {
    const hourly = Array.from({ length: 10 }, (_, i) => ({ ts: i * 60 * MIN }));
    expect(cadenceGap(15 * MIN, hourly)).toBe(120 * MIN);
    expect(cadenceGap(15 * MIN, pts([0, 0], [1, 1], [2, 2], [3, 3]))).toBe(15 * MIN);
    expect(cadenceGap(15 * MIN, hourly.slice(0, 3))).toBe(15 * MIN);
  });

  it('adds up time per state, a state holding until the next point', () => {
    const s = stateDurations(
      [{ ts: -5 * MIN, v: 'false' }, { ts: 10 * MIN, v: 'true' }, { ts: 20 * MIN, v: 'false' }, { ts: 60 * MIN, v: 'false' }],
      0,
      60 * MIN,
      opts,
    );
    expect(s.times.get('true')).toBe(10 * MIN);
    // 20 → 60 is a 40-minute silence: longer than max_gap, so not counted at all.
    expect(s.times.get('false')).toBe(10 * MIN);
    expect(s.coveredMs).toBe(20 * MIN);
  });

  it('coverage of bare points', () => {
    expect(coverageOfPoints([{ ts: 0 }, { ts: 5 * MIN }, { ts: 30 * MIN }, { ts: 35 * MIN }], 0, 40 * MIN, opts)).toBe(10 * MIN);
  });
});
