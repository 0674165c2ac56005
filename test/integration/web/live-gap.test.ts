import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeer, waitFor } from '../../helpers/peers.js';
import { launchChromium, startWebGateway, watchedPage, type WebGateway } from './harness.js';
import { registerSynth } from './synthetic.js';

/**
 * The page reads the latest values, then opens the live stream. A value committed between the
 * two is in neither, so without a catch-up the page would show the older value until the
 * series changes again (15 minutes for a meter polled at that period). Here the browser's
 * /api/live request is held back while a new value commits, as a slow network or a busy
 * gateway would hold it.
 */
const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);

describe.skipIf(!CHROMIUM)('the dashboard between its first read and the live stream', () => {
  let wg: WebGateway;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    wg = await startWebGateway('pipeline: { stale_after: 2h }\n');
    chromium = await launchChromium(CHROMIUM as string);
  });
  afterAll(async () => {
    await chromium?.cleanup();
    await wg?.stop();
  });

  it('shows a value committed after it loaded and before its stream opened', async () => {
    registerSynth(wg.gw, [{ id: 'gap-meter', class: 'grid_meter', tags: { role: 'master' } }]);
    const t0 = Date.now() - 60_000;
    await wg.gw.ingestor.submit({ readings: [{ device: 'gap-meter', metric: 'power', value: 1000, ts: t0 }] });

    const w = await watchedPage(chromium.browser, wg.url, { locale: 'en-US' });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let liveRequests = 0;
    await w.page.route(/\/api\/live/, async (route) => {
      liveRequests += 1;
      await held;
      await route.continue();
    });
    await w.page.goto(`${wg.url}/#energy`);
    await w.page.waitForSelector('body[data-ready="1"]');
    const cell = '.energy-devices .val[data-device="gap-meter"][data-metric="power"]';
    await w.page.waitForSelector(`${cell}[data-raw="1000"]`);
    // The page has read the API and asked for the stream, which is held: a new value commits now.
    await waitFor(() => (liveRequests > 0 ? true : undefined), 5_000);
    await wg.gw.ingestor.submit({ readings: [{ device: 'gap-meter', metric: 'power', value: 2500, ts: t0 + 30_000 }] });
    release();

    await w.page.waitForSelector(`${cell}[data-raw="2500"]`, { timeout: 10_000 });
    const stats = await w.page.evaluate(() => (window as unknown as { fcgw: { stats(): { status: string; received: { samples: number } } } }).fcgw.stats());
    expect(stats.status).toBe('open');
    // Nothing came through the stream: the page caught up from the API when the stream opened.
    expect(stats.received.samples).toBe(0);
    expect(w.errors).toEqual([]);
    await w.context.close();
  });
});
