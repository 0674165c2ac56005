import type { DriverContext } from '../../drivers/core/driver.js';

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
