import { expect } from 'vitest';
import type { DriverContext, DriverHealth } from '../../drivers/core/driver.js';
import { waitFor } from './peers.js';

/**
 * A store whose every commit takes `commitMs` before it passes the batch on to the context's
 * own ingest: when each commit began (wall ms), how many were in flight at once at most, and how
 * many are in flight now.
 */
export function slowCommits(ctx: DriverContext, commitMs: number): { starts: number[]; most: () => number; inFlight: () => number; meanGap: () => number } {
  const committed = ctx.ingest;
  const starts: number[] = [];
  let inFlight = 0;
  let most = 0;
  ctx.ingest = async (batch) => {
    starts.push(performance.now());
    most = Math.max(most, ++inFlight);
    await new Promise((r) => setTimeout(r, commitMs));
    await committed(batch);
    inFlight--;
  };
  return {
    starts,
    most: () => most,
    inFlight: () => inFlight,
    // From the second commit on (the first poll's timing is the driver's start spread).
    meanGap: () => {
      const gaps = starts.slice(2).map((t, i) => t - (starts[i + 1] as number));
      return gaps.reduce((a, b) => a + b, 0) / gaps.length;
    },
  };
}

/**
 * Lets a poller run until 11 commits began, stops it, and checks that it polled while the store
 * committed. Waiting for each commit of 2.5 periods, a poll would go out every 3 periods; with
 * two commits in the store's hands, two polls every 3 periods: 1.5 periods apart on average.
 * The polls it had to skip are counted as overruns. Returns once the store is idle.
 */
export async function expectPollsBesideCommits(store: ReturnType<typeof slowCommits>, period: number, driver: { stop(): Promise<void>; health(): DriverHealth }): Promise<void> {
  await waitFor(() => store.starts.length >= 11, 10_000);
  await driver.stop();
  const mean = store.meanGap();
  expect(store.most()).toBe(2);
  expect(mean, `mean gap ${mean.toFixed(0)} ms`).toBeLessThan(2.5 * period);
  expect(driver.health().counters?.['overruns']).toBeGreaterThan(0);
  await waitFor(() => store.inFlight() === 0, 2000);
}
