import { afterEach, describe, expect, it, vi } from 'vitest';
import { StallFreeClock } from '../../helpers/stall-free-clock.js';

/** The accelerated test clock: slow spans around given instants, stalls kept out. */
describe('StallFreeClock', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('runs at the slow speed inside [at − within, at + within) and at full speed elsewhere', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'performance'] });
    const c = new StallFreeClock(0, 1000, { at: [100_000], within: 10_000, speed: 100 });
    expect(c.now()).toBe(0); // stands still until go()
    c.go();
    vi.advanceTimersByTime(80);
    expect(c.now()).toBe(80_000);
    expect(c.rate).toBe(1000);
    // 10 ms more reach the slow span; 200 ms cross its 20 simulated seconds at 100×.
    vi.advanceTimersByTime(110);
    expect(c.now()).toBe(100_000);
    expect(c.rate).toBe(100);
    vi.advanceTimersByTime(100);
    expect(c.now()).toBe(110_000);
    // Past the span, full speed again.
    vi.advanceTimersByTime(10);
    expect(c.now()).toBe(120_000);
    expect(c.rate).toBe(1000);
    c.stop();
  });

  it('crosses a whole slow span within one reading, and keeps a stall out of simulated time', () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    let t = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => t);
    const run = (ms: number) => {
      for (let i = 0; i < ms; i += 5) {
        t += 5;
        vi.advanceTimersByTime(5);
      }
    };
    const c = new StallFreeClock(0, 1000, { at: [50_000], within: 5_000, speed: 500 });
    c.go();
    run(100); // 45 ms fast, 20 ms slow (10 simulated s), 35 ms fast
    expect(c.now()).toBe(45_000 + 10_000 + 35_000);
    // The event loop stalls for a second: the first look after it sees a 1 s gap where a 5 ms
    // tick was due, and only those 5 ms run the clock.
    t += 1_000;
    expect(c.now()).toBe(95_000);
    expect(c.lostMs).toBe(995);
    run(10);
    expect(c.now()).toBe(105_000);
    c.stop();
  });
});
