import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeer, freePort, waitFor } from '../../helpers/peers.js';
import { artifactPath, launchChromium, startWebGateway, watchedPage, type Watched, type WebGateway } from './harness.js';
import { registerSynth } from './synthetic.js';

/**
 * The header says when the gateway itself needs attention: here a sink whose server is down
 * (a closed loopback port), with its backlog, in both languages; and nothing while all is well.
 */
const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);

describe.skipIf(!CHROMIUM)('the dashboard header: gateway health', () => {
  let wg: WebGateway;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let w: Watched;
  beforeAll(async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    wg = await startWebGateway(
      `sinks: [{ id: district, type: influxdb2, url: ${dead}, token: t, org: fc, bucket: community, flush_interval: 50ms, backoff_max: 1s, timeout: 1s }]\n`,
    );
    chromium = await launchChromium(CHROMIUM as string);
    w = await watchedPage(chromium.browser, wg.url, { locale: 'en-US' });
  });
  afterAll(async () => {
    await chromium?.cleanup();
    await wg?.stop();
  });

  it('is hidden while all is well, and says Degraded with the reason when a sink cannot send', async () => {
    await w.page.goto(`${wg.url}/#devices`);
    await w.page.waitForSelector('body[data-ready="1"]');
    expect(await w.page.isHidden('#health')).toBe(true);

    // Something to send, to a server that is not there: the sink backs off and health degrades.
    registerSynth(wg.gw, [{ id: 'qa-meter', class: 'grid_meter', tags: {} }]);
    await wg.gw.ingestor.submit({ readings: Array.from({ length: 5 }, (_, i) => ({ device: 'qa-meter', metric: 'power', value: i, ts: wg.gw.clock.now() - 5_000 + i })) });
    await waitFor(() => wg.gw.health().status === 'degraded', 10_000);
    const backlog = (wg.gw.health().sinks[0] as { backlog: number }).backlog;
    expect(backlog).toBeGreaterThan(0);
    // The page asks again on reload (and every 15 s).
    await w.page.reload();
    await w.page.waitForSelector('#health:not([hidden])');
    expect(await w.page.textContent('#health')).toBe('⚠ Degraded');
    const title = (await w.page.getAttribute('#health', 'title')) ?? '';
    expect(title.split('\n')).toEqual(['Gateway health: what needs attention', expect.stringMatching(new RegExp(`^Forwarding to district: retrying after an error, ${backlog} records waiting \\(.+\\)$`))]);

    // A click (a tap on a phone) opens the same list under the header.
    expect(await w.page.isHidden('#health-detail')).toBe(true);
    await w.page.click('#health');
    expect(await w.page.locator('#health-detail li').allTextContents()).toEqual(title.split('\n'));
    await w.page.screenshot({ path: artifactPath('header-degraded.png') });
    await w.page.click('#lang');
    expect(await w.page.textContent('#health')).toBe('⚠ 降级运行');
    expect(await w.page.getAttribute('#health', 'title')).toMatch(/^网关健康：需要关注的问题\n转发至 district：出错后重试中，\d+ 条待发送/);
    expect(w.errors).toEqual([]);
    expect(w.foreign).toEqual([]);
  });
});
