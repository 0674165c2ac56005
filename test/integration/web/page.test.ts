import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareIds } from '../../../gateway/web/derive.js';
import { findPeer, waitFor } from '../../helpers/peers.js';
import { apiClient, expectKpiClose, kpiClose, expectNoRawKeys, expectShownMatchApi, type Api } from './checks.js';
import { artifactPath, launchChromium, startDemoGateway, watchedPage, type Watched, type WebGateway } from './harness.js';
import { registerSynth } from './synthetic.js';

/**
 * Targets and Devices in a real Chromium against the simulated community, the first render
 * measured cold, and the page on a phone-sized screen.
 */

const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);
const SPEED = 20;

describe.skipIf(!CHROMIUM)('the dashboard: targets, devices, first render, phone', () => {
  let wg: WebGateway;
  let api: Api;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let w: Watched;
  const figures: Record<string, unknown> = {};

  const show = async (view: string) => {
    await w.page.goto(`${wg.url}/#${view}`);
    await w.page.locator(`main[data-view="${view.split("/")[0]}"] .card`).first().waitFor();
  };
  const shot = (name: string) => w.page.screenshot({ path: artifactPath(`${name}.png`), fullPage: true });

  beforeAll(async () => {
    wg = await startDemoGateway(SPEED);
    api = apiClient(wg.url);
    await waitFor(async () => (await api.latest()).length > 0, 20_000);
    chromium = await launchChromium(CHROMIUM as string);
    w = await watchedPage(chromium.browser, wg.url, { locale: 'en-US' });
  });
  afterAll(async () => {
    writeFileSync(artifactPath('page.json'), JSON.stringify(figures, null, 2));
    await chromium?.cleanup();
    await wg?.stop();
  });

  it('first render on loopback, cold (new browser context each time)', async () => {
    const runs: number[] = [];
    // Two runs here; test/bench/web.ts measures ten at real speed for the figure to quote.
    for (let i = 0; i < 2; i++) {
      const cold = await watchedPage(chromium.browser, wg.url, { locale: 'en-US' });
      await cold.page.goto(`${wg.url}/`);
      await cold.page.waitForSelector('body[data-ready="1"]');
      runs.push(Math.round(await cold.page.evaluate(() => performance.getEntriesByName('fc-first-render')[0]?.startTime ?? -1)));
      expect(cold.errors).toEqual([]);
      expect(cold.foreign).toEqual([]);
      await cold.context.close();
    }
    figures['firstRenderColdMs'] = runs;
    console.log(`first render, cold, on loopback: ${runs.join(', ')} ms`);
    expect(Math.min(...runs)).toBeGreaterThan(0);
  });

  it('Targets: every configured target with the API’s value, bound and status', async () => {
    // The month KPIs move quickly while a fresh demo runs at 20×: the page's values and the API's
    // are read back to back after a fresh render, and read again if a refresh fell in between.
    const read = async () => {
      await w.page.goto(`${wg.url}/`);
      await show('targets');
      await w.page.waitForSelector('.targets tbody tr[data-kpi]');
      const rows = await w.page.$$eval('.targets tbody tr[data-kpi]', (trs) =>
        trs.map((r) => ({
          kpi: r.getAttribute('data-kpi') ?? '',
          window: r.getAttribute('data-window') ?? '',
          status: r.getAttribute('data-status') ?? '',
          raw: (r.querySelector('.val') as HTMLElement | null)?.dataset['raw'] ?? '',
          bound: r.querySelectorAll('td')[2]?.textContent ?? '',
        })),
      );
      const windows = [...new Set(wg.gw.config.targets.map((t) => t.window))];
      const apiRows = (await Promise.all(windows.map((x) => api.kpis(x)))).flat().filter((r) => r.target);
      const agree = rows.every((r) => kpiClose(r.raw === '' ? null : Number(r.raw), apiRows.find((x) => x.kpi === r.kpi && x.window === r.window)));
      return { rows, apiRows, agree };
    };
    let seen = await read();
    for (let i = 0; i < 4 && !seen.agree; i++) seen = await read();
    const { rows, apiRows } = seen;
    // Every target of the config, no more, no less.
    const targets = wg.gw.config.targets.map((t) => `${t.kpi}/${t.window}`).sort();
    expect(rows.map((r) => `${r.kpi}/${r.window}`).sort()).toEqual(targets);
    for (const r of rows) {
      const a = apiRows.find((x) => x.kpi === r.kpi && x.window === r.window);
      expectKpiClose(r.raw === '' ? null : Number(r.raw), a, `${r.kpi}/${r.window}`);
      const b = a?.target?.max !== undefined ? '≤' : '≥';
      expect(r.bound.startsWith(b), `${r.kpi} bound ${r.bound}`).toBe(true);
    }
    await expectNoRawKeys(w.page);
    await shot('targets');
  });

  it('Devices: all listed, paged and filterable; a click shows that device’s values and series', async () => {
    await show('devices');
    // Discovery may add a device between two reads: the page refreshes the list when the view opens.
    const devices = await waitFor(async () => {
      const list = await api.devices();
      const count = await w.page.textContent('.filters .count');
      return count?.endsWith(` ${list.length}`) ? list : undefined;
    }, 5_000);
    const ids = devices.map((d) => d.id).sort(compareIds);
    const firstPage = await w.page.$$eval('.devices tbody tr[data-device]', (trs) => trs.map((r) => r.getAttribute('data-device')));
    expect(firstPage).toEqual(ids.slice(0, 50));
    // Filter by the rarest class whose first device has values already (on a loaded machine a
    // meter polled every few simulated minutes may have none yet, and its detail no rows to show):
    // every row left is of that class.
    const withValues = new Set((await api.latest()).map((r) => r.device));
    const first = (c: string) => devices.filter((d) => d.class === c).map((d) => d.id).sort(compareIds)[0] as string;
    const classes = [...new Set(devices.map((d) => d.class))].filter((c) => withValues.has(first(c)));
    const rare = classes.sort((a, b) => devices.filter((d) => d.class === a).length - devices.filter((d) => d.class === b).length)[0] as string;
    await w.page.selectOption('.filters select >> nth=0', rare);
    const filtered = await w.page.$$eval('.devices tbody tr[data-device]', (trs) => trs.map((r) => r.getAttribute('data-device')));
    expect(filtered).toEqual(devices.filter((d) => d.class === rare).map((d) => d.id).sort(compareIds).slice(0, 50));
    await w.page.fill('.filters .search', filtered[0] ?? '');
    await w.page.click(`.devices tbody tr[data-device="${filtered[0]}"]`);
    await w.page.waitForSelector('.device-detail .metrics tbody tr[data-metric]');
    figures['deviceValues'] = await expectShownMatchApi(w.page, api);
    expect(w.page.url()).toContain(`#devices/${filtered[0]}`);
    const numeric = (await api.get<{ metric: string; value: unknown }[]>(`/api/latest?device=${filtered[0]}`)).some((r) => typeof r.value === 'number' || typeof r.value === 'boolean');
    if (numeric) await w.page.waitForSelector('[data-chart="device"] canvas');
    await expectNoRawKeys(w.page);
    await shot('devices');
  });

  it('shows a stale or a bad value differently from a good one', async () => {
    registerSynth(wg.gw, [{ id: 'qa-meter', class: 'grid_meter', tags: {} }]);
    const put = (value: number | null, quality?: 'uncertain' | 'bad', reason?: string) =>
      wg.gw.ingestor.submit({ readings: [{ device: 'qa-meter', metric: 'power', value, ts: wg.gw.clock.now(), ...(quality ? { quality } : {}), ...(reason ? { reason } : {}) }] });
    const el = '.device-detail .val[data-metric="power"]';
    const looks = async (cls: string) =>
      waitFor(async () => ((await w.page.getAttribute(el, 'class').catch(() => '')) ?? '').split(' ').includes(cls), 5_000);
    await put(12_345);
    await w.page.goto(`${wg.url}/#devices/qa-meter`);
    await looks('q-good');
    expect(await w.page.textContent(el)).toBe('12.3 kW');
    await put(12_400, 'uncertain', 'stale');
    await looks('q-stale');
    expect(await w.page.getAttribute(el, 'title')).toMatch(/^stale \(stale\)/);
    await put(null, 'bad', 'decode_error');
    await looks('q-bad');
    const styles = await w.page.evaluate(() => {
      const probe = (cls: string) => {
        const e = document.createElement('span');
        e.className = `val ${cls}`;
        document.body.append(e);
        const st = getComputedStyle(e);
        const r = `${st.color}|${st.textDecorationLine}|${st.fontStyle}`;
        e.remove();
        return r;
      };
      return ['q-good', 'q-uncertain', 'q-stale', 'q-bad'].map(probe);
    });
    expect(new Set(styles).size, styles.join(' / ')).toBe(4);
  });

  it('after the live stream drops, reconnects and catches up on what it missed', async () => {
    const el = '.device-detail .val[data-metric="power"]';
    const status = () => w.page.evaluate(() => (window as unknown as { fcgw: { stats(): { status: string } } }).fcgw.stats().status);
    expect(await status()).toBe('open');
    wg.gw.live.closeAll();
    // Written while the page has no stream: only the catch-up can bring it.
    await wg.gw.ingestor.submit({ readings: [{ device: 'qa-meter', metric: 'power', value: 777, ts: wg.gw.clock.now() }] });
    await waitFor(async () => (await w.page.getAttribute(el, 'data-raw')) === '777', 10_000);
    expect(await status()).toBe('open');
    expect(await w.page.getAttribute(el, 'class')).toBe('val q-good');
  });

  it('is readable on a phone: one column, nothing wider than the screen', async () => {
    const phone = await watchedPage(chromium.browser, wg.url, { locale: 'zh-CN', viewport: { width: 390, height: 844 } });
    for (const v of ['energy', 'parking', 'devices']) {
      await phone.page.goto(`${wg.url}/#${v}`);
      await phone.page.waitForSelector('body[data-ready="1"]');
      await phone.page.waitForTimeout(300);
      const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `${v} scrolls sideways`).toBeLessThanOrEqual(0);
      await phone.page.screenshot({ path: artifactPath(`phone-${v}.png`), fullPage: true });
    }
    expect(phone.errors).toEqual([]);
    await phone.context.close();
  });

  it('loaded nothing but the gateway, and logged no errors', () => {
    expect(w.foreign).toEqual([]);
    expect(w.errors).toEqual([]);
  });
});
