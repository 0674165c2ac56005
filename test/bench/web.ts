// Bench: the dashboard's first render on loopback, cold (a new browser context each run), against
// the demo community at real speed, as `npm start` runs it. Goal: under 1 s.
// Writes test/bench/results/web.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPeer, waitFor } from '../helpers/peers.js';
import { launchChromium, startDemoGateway, watchedPage } from '../integration/web/harness.js';

const RUNS = Number(process.env['BENCH_WEB_RUNS'] ?? 10);

const chromiumPath = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);
if (!chromiumPath) process.exit(0);

const wg = await startDemoGateway(1);
const { browser, cleanup } = await launchChromium(chromiumPath);
try {
  // Let the simulated community report once, so the page has something to show.
  await waitFor(async () => ((await (await fetch(`${wg.url}/api/latest`)).json()) as unknown[]).length > 100, 30_000);
  const series = ((await (await fetch(`${wg.url}/api/latest`)).json()) as unknown[]).length;
  const devices = ((await (await fetch(`${wg.url}/api/devices`)).json()) as unknown[]).length;
  const runs: { firstRender: number; domContentLoaded: number; requests: number; transferKB: number }[] = [];
  for (let i = 0; i < RUNS; i++) {
    const w = await watchedPage(browser, wg.url, { locale: 'zh-CN' });
    await w.page.goto(`${wg.url}/`);
    await w.page.locator('body[data-ready="1"]').waitFor();
    const r = await w.page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
      const res = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      return {
        firstRender: performance.getEntriesByName('fc-first-render')[0]?.startTime ?? -1,
        domContentLoaded: nav.domContentLoadedEventEnd,
        bytes: nav.transferSize + res.reduce((n, e) => n + e.transferSize, 0),
      };
    });
    if (w.foreign.length || w.errors.length) throw new Error(`page problems: ${JSON.stringify({ foreign: w.foreign, errors: w.errors })}`);
    runs.push({ firstRender: Math.round(r.firstRender), domContentLoaded: Math.round(r.domContentLoaded), requests: w.requests, transferKB: Math.round(r.bytes / 1024) });
    await w.context.close();
  }
  const sorted = runs.map((r) => r.firstRender).sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const result = {
    bench: 'web',
    node: process.version,
    at: new Date().toISOString(),
    devices,
    series,
    firstRenderMs: { min: sorted[0], median: at(0.5), p90: at(0.9), max: sorted[sorted.length - 1] },
    requests: runs[0]?.requests,
    transferKB: runs[0]?.transferKB,
    runs: RUNS,
  };
  console.log(JSON.stringify(result, null, 2));
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'web.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await cleanup();
  await wg.stop();
}
