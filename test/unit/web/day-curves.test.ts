import { describe, expect, it } from 'vitest';
import { DayCurves } from '../../../gateway/web/day-curves.js';

const DAY = Date.UTC(2025, 5, 1);
const B = 5 * 60_000;

describe('DayCurves', () => {
  it('has one fixed slot per bucket of the day and ignores other days', () => {
    const c = new DayCurves(DAY, B, { pv: 'sum' });
    expect(c.n).toBe(288);
    expect(c.x[1]).toBe(DAY + B);
    expect(c.put('pv', 'a', DAY - 1, 5)).toBe(-1);
    expect(c.put('pv', 'a', DAY + 86_400_000, 5)).toBe(-1);
    expect(c.put('pv', 'a', DAY + B + 10, 5)).toBe(1);
    expect(c.y['pv']?.length).toBe(288);
  });

  it('sums devices, carrying a late device forward for a few buckets', () => {
    const c = new DayCurves(DAY, B, { pv: 'sum' }, 2);
    c.put('pv', 'a', DAY, 100);
    c.put('pv', 'b', DAY, 50);
    c.put('pv', 'a', DAY + B, 110); // b is late in bucket 1
    expect(c.y['pv']?.slice(0, 2)).toEqual([150, 160]);
    c.put('pv', 'a', DAY + 4 * B, 120); // b's value is too old by bucket 4
    expect(c.y['pv']?.[4]).toBe(120);
    expect(c.y['pv']?.[2]).toBeNull(); // nobody reported in bucket 2
  });

  it('averages a mean curve and derives load from the others', () => {
    const c = new DayCurves(DAY, B, { pv: 'sum', grid: 'sum', battery: 'sum', soc: 'mean' });
    c.put('soc', 'b1', DAY, 40);
    c.put('soc', 'b2', DAY, 60);
    expect(c.y['soc']?.[0]).toBe(50);
    c.put('pv', 'a', DAY, 1000);
    c.put('grid', 'm', DAY, 500);
    c.put('battery', 'b1', DAY, 200);
    const load = c.derive((p, g, b) => p + g - b, 'pv', 'grid', 'battery');
    expect(load[0]).toBe(1300);
    expect(load[1]).toBeNull();
  });

  it('treats a curve with no devices as zero and starts over on reset', () => {
    const c = new DayCurves(DAY, B, { pv: 'sum', battery: 'sum' });
    c.put('pv', 'a', DAY, 10);
    expect(c.derive((p, b) => p - b, 'pv', 'battery')[0]).toBe(10);
    c.reset(DAY + 86_400_000);
    expect(c.y['pv']?.every((v) => v === null)).toBe(true);
    expect(c.put('pv', 'a', DAY + 86_400_000, 7)).toBe(0);
  });
});
