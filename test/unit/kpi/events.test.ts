import { describe, expect, it } from 'vitest';
import { matchEvents, overdueCount, percentile, promiseStats } from '../../../gateway/kpi/events.js';

const S = 1000;

describe('event matching', () => {
  it('matches each start with the first completion of its key at or after it', () => {
    const m = matchEvents(
      [{ ts: 0, key: 'a' }, { ts: 10 * S, key: 'b' }, { ts: 20 * S, key: 'c' }],
      [{ ts: 5 * S, key: 'x' }, { ts: 70 * S, key: 'b' }, { ts: 60 * S, key: 'a' }],
    );
    expect(m.matched).toEqual([
      { key: 'a', start: 0, end: 60 * S },
      { key: 'b', start: 10 * S, end: 70 * S },
    ]);
    expect(m.open).toEqual([{ key: 'c', start: 20 * S }]);
    expect(m.unmatchedEnds).toBe(1);
  });

  it('nearest-rank p95', () => {
    const v = Array.from({ length: 20 }, (_, i) => i + 1);
    expect(percentile(v, 0.95)).toBe(19);
    expect(percentile(Array.from({ length: 100 }, (_, i) => i + 1), 0.95)).toBe(95);
    expect(percentile([7], 0.95)).toBe(7);
    expect(percentile([], 0.95)).toBeUndefined();
  });
});

describe('promise statistics', () => {
  const matched = Array.from({ length: 19 }, (_, i) => ({ key: `k${i}`, start: 0, end: (100 + i * 10) * S }));

  it('in a running window a young open start is pending, an old one is a failure', () => {
    const m = { matched, open: [{ key: 'young', start: 1000 * S }, { key: 'old', start: 0 }], unmatchedEnds: 0 };
    const st = promiseStats(m, 300 * S, 1100 * S, false);
    expect(st.openCounted).toBe(1);
    expect(st.within).toBeCloseTo(19 / 20, 12);
    // 20 values, rank 19 is the largest completed one (280 s); the failure is rank 20.
    expect(st.p95).toBe(280);
    expect(st.beyond).toBe(false);
  });

  it('once the window closed every open start counts against the target', () => {
    const m = { matched: matched.slice(0, 10), open: [{ key: 'o1', start: 0 }, { key: 'o2', start: 0 }], unmatchedEnds: 0 };
    const st = promiseStats(m, 300 * S, 400 * S, true);
    expect(st.within).toBeCloseTo(10 / 12, 12);
    expect(st.p95).toBeNull();
    expect(st.beyond).toBe(true);
  });

  it('counts parcels overdue at the reference time', () => {
    const H = 3_600_000;
    const deposits = [{ ts: 0, key: 'a' }, { ts: 0, key: 'b' }, { ts: 10 * H, key: 'c' }];
    const done = [{ ts: 5 * H, key: 'a' }, { ts: 60 * H, key: 'b' }];
    expect(overdueCount(deposits, done, 50 * H, 48 * H)).toBe(1);
    expect(overdueCount(deposits, done, 61 * H, 48 * H)).toBe(1);
    expect(overdueCount(deposits, done, 59 * H, 48 * H)).toBe(2);
  });
});
