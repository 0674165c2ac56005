import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeviceState } from '../../../drivers/core/driver.js';
import { PollScheduler, type PolledDevice } from '../../../drivers/core/poll-scheduler.js';

/** The schedule both polling drivers use (Modbus, the meter buses), on a fake clock. */
describe('PollScheduler (drivers/core/poll-scheduler.ts)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const device = (id: string, period = 1000): PolledDevice => ({ id, period, state: 'unknown' as DeviceState, quarantineUntil: 0 });

  it('polls each device on its own grid, spread at start, one poll of a device at a time', async () => {
    const a = device('a');
    const b = device('b');
    const polls: [string, number][] = [];
    const overruns: string[] = [];
    let slowB = false;
    const s = new PollScheduler([a, b], {
      connected: () => true,
      poll: async (d) => {
        polls.push([d.id, performance.now()]);
        // b's poll takes 2.5 periods once slowB is set: its next two are skipped as overruns.
        if (d.id === 'b' && slowB) await new Promise((r) => setTimeout(r, 2_500));
      },
      overrun: (d) => overruns.push(d.id),
    });
    const t0 = performance.now();
    s.start();
    await vi.advanceTimersByTimeAsync(2_000);
    // a at 0, 1000, 2000; b spread 450 ms later (0.9 of the period over two devices).
    expect(polls.map(([id, t]) => [id, Math.round(t - t0)])).toEqual([
      ['a', 0],
      ['b', 450],
      ['a', 1000],
      ['b', 1450],
      ['a', 2000],
    ]);
    slowB = true;
    polls.length = 0;
    await vi.advanceTimersByTimeAsync(4_000);
    // b polls at 2450, then is busy until 4950: 3450 and 4450 are overruns, 5450 polls again.
    expect(polls.filter(([id]) => id === 'b').map(([, t]) => Math.round(t - t0))).toEqual([2450, 5450]);
    expect(overruns).toEqual(['b', 'b']);
    expect(polls.filter(([id]) => id === 'a')).toHaveLength(4);
    s.stop();
    polls.length = 0;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(polls).toEqual([]);
  });

  it('skips a device while two polls’ readings are uncommitted, and counts it', async () => {
    const a = device('a');
    const overruns: string[] = [];
    let polls = 0;
    const pending: (() => void)[] = [];
    const s = new PollScheduler([a], {
      connected: () => true,
      poll: async (d) => {
        polls++;
        s.commits.track(d.id, new Promise<void>((r) => pending.push(r)), () => {});
      },
      overrun: (d) => overruns.push(d.id),
    });
    s.start();
    await vi.advanceTimersByTimeAsync(3_500);
    // Polls at 0 and 1000 left two commits pending: 2000 and 3000 are skipped.
    expect(polls).toBe(2);
    expect(overruns).toEqual(['a', 'a']);
    for (const r of pending.splice(0)) r();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(polls).toBe(3);
    s.stop();
  });

  it('leaves a quarantined device alone until its probe, and marks a device offline while the link is down', async () => {
    const q = device('q');
    const d = device('d');
    q.state = 'quarantined';
    q.quarantineUntil = performance.now() + 2_500;
    let up = true;
    const polled: string[] = [];
    const s = new PollScheduler([q, d], { connected: () => up, poll: async (x) => void polled.push(x.id), overrun: () => {} });
    s.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(polled.filter((x) => x === 'q')).toEqual([]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(polled.filter((x) => x === 'q')).toEqual(['q']);
    up = false;
    q.quarantineUntil = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(d.state).toBe('offline');
    // A quarantined device keeps its state through a link outage.
    expect(q.state).toBe('quarantined');
    s.stop();
  });
});
