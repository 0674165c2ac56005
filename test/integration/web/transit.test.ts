import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeer, waitFor } from '../../helpers/peers.js';
import { apiClient, expectKpiClose, expectNoRawKeys, shownMetrics, type Api } from './checks.js';
import { artifactPath, launchChromium, startDemoGateway, watchedPage, type Watched, type WebGateway } from './harness.js';

/**
 * The demo's live departures on the Parking view's Transit card, in a real Chromium, in Chinese
 * and in English: the boards of the GTFS-Realtime feed (simulated agency on loopback, read by the
 * gtfs-rt driver) as the API has them, the cancelled 08:20 trip of line 12, the K5 diversion, and
 * the 10-minute circle's share.
 */

const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);
const SPEED = 20;
// A Monday morning: line 12's 08:20 trip is cancelled in the scenario.
const START = '2024-03-04T08:05:00+08:00';

describe.skipIf(!CHROMIUM)('the Transit card against the simulated community', () => {
  let wg: WebGateway;
  let api: Api;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let w: Watched;

  beforeAll(async () => {
    wg = await startDemoGateway(SPEED, (doc) => doc.setIn(['simulators', 'start'], START));
    api = apiClient(wg.url);
    // The driver reads the static GTFS, then the feed: boards and the cancellation arrive together.
    await waitFor(async () => (await api.latest()).some((r) => r.device === 'bus-east-gate-12' && r.metric === 'next_departure' && typeof r.value === 'number'), 30_000);
    await waitFor(async () => (await api.events('trip_cancelled')).length > 0, 10_000);
    chromium = await launchChromium(CHROMIUM as string);
    w = await watchedPage(chromium.browser, wg.url, { locale: 'zh-CN' });
  });
  afterAll(async () => {
    await chromium?.cleanup();
    await wg?.stop();
  });

  /** Every board value on screen is the stored value of its series at the time it shows. */
  const expectBoardsMatchApi = async () => {
    const boards = new Set((await api.devices()).filter((d) => d.class === 'transit_stop').map((d) => d.id));
    const shown = (await shownMetrics(w.page)).filter((s) => boards.has(s.device));
    expect(shown.length).toBe(4 * 3);
    for (const s of shown) {
      const stored = await api.valueAt(s.device, s.metric, s.ts);
      expect(s.raw, `${s.device}.${s.metric}`).toBe(stored?.[1] === null || stored?.[1] === undefined ? '' : String(stored[1]));
    }
  };
  const boardRow = (device: string) => w.page.locator(`.transit-boards tr[data-device="${device}"]`);

  it('shows each stop and line with its next departures as the API has them, in Chinese', async () => {
    await w.page.goto(`${wg.url}/#parking`);
    await boardRow('bus-east-gate-12').locator('.val[data-metric="next_departure"][data-raw]:not([data-raw=""])').waitFor();
    expect(await w.page.textContent('.card:has(.transit-boards) h2')).toBe('公交出行（10分钟可达）');
    const devices = (await api.devices()).filter((d) => d.class === 'transit_stop');
    expect(devices.map((d) => d.id).sort()).toEqual(['bus-east-gate-12', 'bus-east-gate-k5', 'bus-east-gate-n3', 'metro-lianhua-5']);
    expect(await w.page.locator('.transit-boards tbody tr[data-device]').count()).toBe(4);
    expect(await boardRow('bus-east-gate-12').locator('td.id').textContent()).toBe('莲花社区东门 12路');
    await expectBoardsMatchApi();
    const latest = await api.latest();
    const next12 = latest.find((r) => r.device === 'bus-east-gate-12' && r.metric === 'next_departure');
    expect(next12?.unit).toBe('s');
    expect(next12?.value as number).toBeGreaterThanOrEqual(0);
    // Every 10 minutes, at most 4 minutes late, one trip cancelled: never more than 24 minutes away.
    expect(next12?.value as number).toBeLessThanOrEqual(24 * 60);
    // The departure clock time is the board's time plus its countdown (both as the row shows them).
    const row = await boardRow('bus-east-gate-12').evaluate((tr) => {
      const v = tr.querySelector<HTMLElement>('.val[data-metric="next_departure"]');
      return { raw: Number(v?.dataset['raw']), ts: Number(v?.dataset['ts']), at: tr.querySelector('[data-k="at"]')?.textContent };
    });
    expect(row.at).toBe(new Date(row.ts + row.raw * 1000).toLocaleTimeString('zh-CN', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }));
    // K5 is diverted all day (a service alert): disrupted, in Chinese.
    expect(await boardRow('bus-east-gate-k5').getAttribute('data-status')).toBe('disrupted');
    expect(await boardRow('bus-east-gate-k5').locator('.badge').textContent()).toBe('运营受阻');
    // The cancelled 08:20 trip of line 12 and the K5 alert among today's notices.
    await w.page.locator('.transit-notices tr[data-type="trip_cancelled"]').first().waitFor();
    expect(await w.page.locator('.transit-notices tr[data-type="trip_cancelled"] td').last().textContent()).toBe('12路 08:20 班次取消');
    expect(await w.page.locator('.transit-notices tr[data-type="service_alert"] td').last().textContent()).toBe('K5路因道路施工绕行');
    // The 10-minute circle, as the KPI API computes it.
    const shown = await w.page.locator('[data-k="kpi.transit_access_10min.day"]').getAttribute('data-raw');
    const kpi = (await api.kpis('day')).find((r) => r.kpi === 'transit_access_10min' && r.scope === 'site');
    expectKpiClose(shown ? Number(shown) : null, kpi, 'transit_access_10min', 1e-9);
    await expectNoRawKeys(w.page);
    await w.page.screenshot({ path: artifactPath('transit-zh.png'), fullPage: true });
  });

  it('shows the same boards in English', async () => {
    await w.page.click('#lang');
    expect(await w.page.getAttribute('html', 'lang')).toBe('en');
    await w.page.locator('.card:has(.transit-boards) h2', { hasText: 'Transit (10-minute circle)' }).waitFor();
    expect(await w.page.locator('.transit-boards thead th').allTextContents()).toEqual(['Stop / line', 'Next in', 'At', 'Then in', 'Delay', 'Status']);
    expect(await boardRow('bus-east-gate-k5').locator('.badge').textContent()).toBe('disrupted');
    await boardRow('bus-east-gate-12').locator('.val[data-metric="next_departure"][data-raw]:not([data-raw=""])').waitFor();
    expect(await w.page.locator('.transit-notices tr[data-type="trip_cancelled"] td').last().textContent()).toBe('Line 12 at 08:20 cancelled');
    await expectBoardsMatchApi();
    await expectNoRawKeys(w.page);
    expect(w.errors).toEqual([]);
    expect(w.foreign).toEqual([]);
    await w.page.screenshot({ path: artifactPath('transit-en.png'), fullPage: true });
    await w.page.click('#lang');
  });
});
