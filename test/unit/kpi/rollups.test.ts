import { describe, expect, it } from 'vitest';
import { counterOverWindow, FLAG_OK, type CounterPoint } from '../../../gateway/kpi/energy.js';
import { cleanHourPoints, estimatedHourPoints, hourCoverage, isSuspicious, medianStep, mergeStreams } from '../../../gateway/kpi/rollups.js';

const H = 3_600_000;
const b = (start: number, min: number, max: number, last: number, count = 60) => ({ start: start * H, count, min, max, last, lastTs: start * H + 59 * 60_000 });

describe('hourly rollups for counters', () => {
  it('flags hours that went down, against themselves or the hour before', () => {
    expect(isSuspicious(b(0, 100, 200, 200), 95)).toBe(false);
    expect(isSuspicious(b(0, 5, 1000, 30), 900)).toBe(true);
    expect(isSuspicious(b(0, 10, 60, 60), 900)).toBe(true);
  });

  it('a chain of clean hours gives last − first exactly', () => {
    const stream = [b(0, 0, 590, 590), b(1, 600, 1190, 1190), b(2, 1200, 1790, 1790)].flatMap(cleanHourPoints);
    expect(counterOverWindow(stream, 0, 3 * H, { maxGap: H, now: 10 * H }).delta).toBe(1790);
  });

  it('estimates an hour with a reset as (max − previous last) + (last − min)', () => {
    const stream = [...cleanHourPoints(b(0, 0, 900, 900)), ...estimatedHourPoints(b(1, 3, 950, 40))];
    // 900 → 950 before the reset, 3 → 40 after it.
    expect(counterOverWindow(stream, 0, 2 * H, { maxGap: H, now: 10 * H }).delta).toBe(900 + 50 + 37);
  });

  it('estimates an hour with a wrap using the wrap value', () => {
    const stream = [...cleanHourPoints(b(0, 65_000, 65_300, 65_300)), ...estimatedHourPoints(b(1, 10, 65_530, 70), 65_536)];
    expect(counterOverWindow(stream, 0, 2 * H, { maxGap: H, now: 10 * H }).delta).toBe(300 + 230 + 6 + 10 + 60);
  });

  it('coverage from the sample count and interval, none when samples are further apart than max_gap', () => {
    expect(hourCoverage(60, 60_000, 900_000)).toBe(H);
    // Ten missing minutes fit inside one bridged gap; thirty do not.
    expect(hourCoverage(50, 60_000, 900_000)).toBe(H);
    expect(hourCoverage(30, 60_000, 900_000)).toBe(H / 2);
    expect(hourCoverage(0, 60_000, 900_000)).toBe(0);
    expect(hourCoverage(1, H, 900_000)).toBe(0);
    expect(medianStep([0, 60_000, 120_000, 180_000, 900_000])).toBe(60_000);
  });

  it('prefers a raw point over the stand-in of the same sample', () => {
    const raw: CounterPoint[] = [{ ts: 30_000, v: 0, flag: FLAG_OK }];
    const merged = mergeStreams(raw, cleanHourPoints(b(0, 0, 590, 590)));
    expect(merged.map((p) => p.ts)).toEqual([30_000, 59 * 60_000]);
  });
});
