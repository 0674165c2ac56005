import { describe, expect, it } from 'vitest';
import { backoffDelay, nextDue } from '../../../drivers/core/schedule.js';

describe('backoff and absolute schedules (drivers/core/schedule.ts)', () => {
  it('doubles from min, spreads by the jitter, never passes the cap', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 10].map((n) => backoffDelay(n, 500, 30_000, mid))).toEqual([500, 1000, 2000, 4000, 30_000]);
    expect(backoffDelay(2, 500, 30_000, () => 0)).toBe(1500);
    expect(backoffDelay(2, 500, 30_000, () => 1)).toBe(2500);
    expect(backoffDelay(2, 500, 30_000, () => 0, 0.2)).toBe(1600);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, 500, 30_000, () => 1)).toBe(30_000);
  });

  it('keeps polls on their grid and skips the periods a stall missed', () => {
    expect(nextDue(1000, 500, 1200)).toBe(1500);
    expect(nextDue(1000, 500, 1500)).toBe(1500);
    expect(nextDue(1000, 500, 2700)).toBe(3000);
  });
});
