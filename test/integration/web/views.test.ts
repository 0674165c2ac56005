import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPeer, waitFor } from '../../helpers/peers.js';
import { startOfDay } from '../../../gateway/web/format.js';
import { apiClient, expectKpiClose, expectNoRawKeys, expectShownMatchApi, rawOf, type Api, type ApiKpi } from './checks.js';
import { artifactPath, launchChromium, startDemoGateway, watchedPage, type Watched, type WebGateway } from './harness.js';
import { registerSynth, SynthCommunity, synthDevices } from './synthetic.js';

/**
 * The dashboard in a real Chromium against a running gateway with the simulated community
 * (config/demo.yaml, simulated time 20× the wall clock): every view shows the API's live
 * values, the language switches, nothing is loaded from anywhere but the gateway.
 */

const CHROMIUM = findPeer('chromium', ['/usr/bin/chromium', 'chromium']);
const SPEED = 20;
// The browser runs in the demo site's zone; health does not name it yet, so the page takes the browser's.
const TZ = 'Asia/Shanghai';

describe.skipIf(!CHROMIUM)('the dashboard against the simulated community', () => {
  let wg: WebGateway;
  let api: Api;
  let chromium: Awaited<ReturnType<typeof launchChromium>>;
  let w: Watched;
  const figures: Record<string, unknown> = {};
  let feeder: ReturnType<typeof setInterval> | undefined;

  const show = async (view: string) => {
    await w.page.goto(`${wg.url}/#${view}`);
    await w.page.locator(`main[data-view="${view}"] .card`).first().waitFor();
  };
  const shot = (name: string) => w.page.screenshot({ path: artifactPath(`${name}.png`), fullPage: true });
  const kpiOf = (rows: ApiKpi[], kpi: string) => rows.find((r) => r.kpi === kpi && r.scope === 'site');

  beforeAll(async () => {
    wg = await startDemoGateway(SPEED);
    api = apiClient(wg.url);
    await waitFor(async () => (await api.latest()).length > 0, 20_000);
    // Until the demo has its own energy devices, a few synthetic ones feed the Energy view live
    // through the same ingest path, so its numbers are still checked against the API.
    if (!(await api.devices()).some((d) => d.class === 'pv_inverter')) {
      const energy = synthDevices(0).filter((d) => ['pv_inverter', 'battery', 'grid_meter', 'heat_pump'].includes(d.class));
      registerSynth(wg.gw, energy);
      const community = new SynthCommunity(energy, 3);
      const feed = () => wg.gw.ingestor.submit(community.round(wg.gw.clock.now(), SPEED / 2)).catch(() => undefined);
      await feed();
      feeder = setInterval(feed, 500);
      figures['energy'] = 'synthetic';
    }
    chromium = await launchChromium(CHROMIUM as string);
    w = await watchedPage(chromium.browser, wg.url, { locale: 'zh-CN' });
  });
  afterAll(async () => {
    clearInterval(feeder);
    writeFileSync(artifactPath('views.json'), JSON.stringify(figures, null, 2));
    await chromium?.cleanup();
    await wg?.stop();
  });

  it('renders its first view quickly, in the browser language, live', async () => {
    await w.page.goto(`${wg.url}/`);
    await w.page.waitForSelector('body[data-ready="1"]');
    const firstRenderMs = await w.page.evaluate(() => performance.getEntriesByName('fc-first-render')[0]?.startTime ?? -1);
    figures['firstRenderMs'] = Math.round(firstRenderMs);
    console.log(`first render on loopback: ${Math.round(firstRenderMs)} ms after navigation start`);
    expect(firstRenderMs).toBeGreaterThan(0);
    expect(await w.page.getAttribute('html', 'lang')).toBe('zh-CN');
    expect(await w.page.textContent('nav a[data-view="energy"]')).toBe('能源');
    const received = await waitFor(async () => {
      const s = await w.page.evaluate(() => (window as unknown as { fcgw: { stats(): { status: string; received: { samples: number } } } }).fcgw.stats());
      return s.status === 'open' && s.received.samples > 0 ? s : undefined;
    }, 10_000);
    expect(received.received.samples).toBeGreaterThan(0);
    await shot('energy-zh');
  });

  it('switches to English and back, and remembers the choice', async () => {
    await w.page.click('#lang');
    expect(await w.page.getAttribute('html', 'lang')).toBe('en');
    expect(await w.page.textContent('nav a[data-view="energy"]')).toBe('Energy');
    expect(await w.page.textContent('main .card h2')).toBe('Power flow now');
    await expectNoRawKeys(w.page);
    await w.page.click('#lang');
    expect(await w.page.textContent('nav a[data-view="energy"]')).toBe('能源');
    await expectNoRawKeys(w.page);
    await w.page.click('#lang');
    await w.page.reload();
    await w.page.waitForSelector('body[data-ready="1"]');
    expect(await w.page.textContent('nav a[data-view="parking"]')).toBe('Parking');
  });

  it('Energy: the flow adds up the devices it lists, each as the API has it', async () => {
    await show('energy');
    figures['energyValues'] = await expectShownMatchApi(w.page, api);
    const { flow, shown } = await w.page.evaluate(() => {
      const raw = (k: string) => (document.querySelector(`[data-k="energy.${k}"]`) as HTMLElement | null)?.dataset['raw'] ?? '';
      const rows = Array.from(document.querySelectorAll<HTMLElement>('.energy-devices .val[data-device]')).map((e) => [e.dataset['device'], e.dataset['metric'], e.dataset['raw']]);
      return { flow: { pv: raw('pv'), grid: raw('grid'), battery: raw('battery'), community: raw('community') }, shown: rows };
    });
    const devices = await api.devices();
    const classOf = new Map(devices.map((d) => [d.id, d.class]));
    const sum = (cls: string, metric: string) => shown.filter(([d, m, v]) => classOf.get(d ?? '') === cls && m === metric && v !== '').reduce((a, [, , v]) => a + Number(v), 0);
    expect(flow.pv, 'PV on the flow').not.toBe('');
    expect(Number(flow.pv)).toBeCloseTo(sum('pv_inverter', 'ac_power'), 6);
    if (devices.some((d) => d.class === 'battery')) expect(Number(flow.battery)).toBeCloseTo(sum('battery', 'power'), 6);
    expect(flow.community, 'community load on the flow').not.toBe('');
    expect(Number(flow.community)).toBeCloseTo(Number(flow.pv) + Number(flow.grid) - Number(flow.battery || 0), 6);
    expect(await w.page.locator('[data-chart="energy-today"] canvas').count()).toBeGreaterThan(0);
    // The view reads KPIs when it opens (then every minute) while the simulated day runs 20×
    // faster: bracket the page's figure between the API's just before and just after it loaded.
    const pvBefore = kpiOf(await api.kpis('day'), 'pv_generation')?.value ?? null;
    await w.page.reload();
    await w.page.locator('main[data-view="energy"] .card').first().waitFor();
    const sel = '[data-k="kpi.pv_generation.day"]';
    // (0 Wh before sunrise is a value too.)
    const { v: pvShown } = await waitFor(async () => {
      const v = await rawOf(w.page, sel);
      return v === null ? undefined : { v };
    }, 10_000);
    const pvAfter = kpiOf(await api.kpis('day'), 'pv_generation')?.value ?? null;
    expect(pvBefore !== null && pvAfter !== null, 'pv_generation has an API value').toBe(true);
    expect(pvShown, `pv_generation: page ${pvShown}, API ${pvBefore}…${pvAfter}`).toBeGreaterThanOrEqual(Math.min(pvBefore as number, pvAfter as number) * 0.95);
    expect(pvShown, `pv_generation: page ${pvShown}, API ${pvBefore}…${pvAfter}`).toBeLessThanOrEqual(Math.max(pvBefore as number, pvAfter as number) * 1.05);
    await expectNoRawKeys(w.page);
    await shot('energy');
  });

  it('Parking: zones count the API’s spaces; garages, chargers and retrievals match it', async () => {
    await show('parking');
    figures['parkingValues'] = await expectShownMatchApi(w.page, api);
    const devices = (await api.devices()).filter((d) => d.class === 'parking_space');
    const zones = await w.page.$$eval('.zones tbody tr[data-zone]', (rows) =>
      rows.map((r) => ({ zone: r.getAttribute('data-zone'), total: Number(r.querySelector('[data-k="total"]')?.textContent?.replace(/,/g, '')), occupied: Number(r.querySelector('[data-k="occupied"]')?.textContent?.replace(/,/g, '')) })),
    );
    const latest = await api.latest();
    for (const z of zones.filter((x) => x.zone)) {
      const inZone = devices.filter((d) => (d.tags['zone'] ?? '') === z.zone);
      expect(z.total, `zone ${z.zone}`).toBe(inZone.length);
      const occ = latest.filter((r) => r.metric === 'occupied' && r.value === true && inZone.some((d) => d.id === r.device)).length;
      // Spaces change while we look: the page may be a flush (≤ 0.5 s) behind.
      expect(Math.abs(z.occupied - occ), `zone ${z.zone} occupied`).toBeLessThanOrEqual(Math.max(2, Math.ceil(inZone.length * 0.05)));
    }
    expect(zones.find((z) => z.zone === '')?.total ?? 0).toBe(devices.length);
    const done = await w.page.$$eval('.retrievals tbody tr[data-id]', (rows) => rows.map((r) => [r.getAttribute('data-id'), Number(r.getAttribute('data-seconds'))] as const));
    if (done.length) {
      const req = await api.events('retrieval_requested');
      const fin = await api.events('retrieval_completed');
      for (const [id, seconds] of done) {
        const a = req.find((e) => e.attributes['request_id'] === id);
        const b = fin.find((e) => e.attributes['request_id'] === id);
        expect((Date.parse(b?.ts ?? '') - Date.parse(a?.ts ?? '')) / 1000, `retrieval ${id}`).toBe(seconds);
      }
    }
    await expectNoRawKeys(w.page);
    await shot('parking');
  });

  it('Parcels: lockers as the API has them; waiting is what they hold', async () => {
    await show('parcels');
    figures['parcelValues'] = await expectShownMatchApi(w.page, api);
    const { waiting, held } = await w.page.evaluate(() => ({
      waiting: (document.querySelector('[data-k="parcels.waiting"]') as HTMLElement).dataset['raw'] ?? '',
      held: Array.from(document.querySelectorAll<HTMLElement>('.val[data-metric="compartments_occupied"]')).map((e) => Number(e.dataset['raw'] || 0)),
    }));
    if (held.length) expect(Number(waiting)).toBe(held.reduce((a, b) => a + b, 0));
    const recent = await w.page.$$eval('.parcels tbody tr[data-id]', (rows) => rows.map((r) => [r.getAttribute('data-id'), Number(r.getAttribute('data-seconds'))] as const));
    if (recent.length) {
      const arrived = await api.events('parcel_arrived');
      const ends = [...(await api.events('parcel_picked_up')), ...(await api.events('parcel_delivered'))];
      for (const [id, seconds] of recent) {
        const a = arrived.find((e) => e.attributes['parcel'] === id);
        const b = ends.find((e) => e.attributes['parcel'] === id);
        expect((Date.parse(b?.ts ?? '') - Date.parse(a?.ts ?? '')) / 1000, `parcel ${id}`).toBe(seconds);
      }
    }
    expectKpiClose(await rawOf(w.page, '[data-k="kpi.parcels_overdue.day"]'), kpiOf(await api.kpis('day'), 'parcels_overdue'), 'parcels_overdue');
    await expectNoRawKeys(w.page);
    await shot('parcels');
  });

  it('Doors: every event listed is one the API has; door states match', async () => {
    await show('doors');
    figures['doorValues'] = await expectShownMatchApi(w.page, api);
    const rows = await w.page.$$eval('.door-events tbody tr[data-type]', (trs) => trs.map((r) => ({ type: r.getAttribute('data-type') ?? '', device: r.getAttribute('data-device') ?? '', ts: Number(r.getAttribute('data-ts')) })));
    for (const r of rows) {
      const hits = await api.get<unknown[]>(`/api/events?type=${r.type}&device=${r.device}&from=${r.ts}&to=${r.ts + 1}`);
      expect(hits.length, `${r.type} at ${r.device} ${r.ts}`).toBeGreaterThan(0);
    }
    expect(rows.map((r) => r.ts)).toEqual([...rows.map((r) => r.ts)].sort((a, b) => b - a));
    await w.page.check('#only-alarms');
    const alarms = await w.page.$$eval('.door-events tbody tr[data-type]', (trs) => trs.map((r) => r.getAttribute('data-type')));
    expect(alarms.every((t) => t === 'access_denied' || t === 'door_forced' || t === 'door_held_open')).toBe(true);
    await expectNoRawKeys(w.page);
    await shot('doors');
  });

  it('Water: meters, today’s volumes and alarms as the API has them', async () => {
    await show('water');
    figures['waterValues'] = await expectShownMatchApi(w.page, api);
    const vols = await w.page.$$eval('.val[data-k$=".volume"]', (els) => els.map((e) => [(e.getAttribute('data-k') ?? '').replace(/^meter\.|\.volume$/g, ''), (e as HTMLElement).dataset['raw'] ?? '', Number((e as HTMLElement).dataset['ts'] || 0)] as const));
    // Today's volume = the counter at the time shown − its first reading since local midnight.
    for (const [device, raw, ts] of vols.filter(([, r]) => r !== '').slice(0, 10)) {
      const first = await api.get<{ points: [string, number][] }>(`/api/series?device=${device}&metric=volume_total&from=${startOfDay(ts, TZ)}&to=${ts + 1}&limit=1`);
      const at = await api.valueAt(device, 'volume_total', ts);
      expect(Number(raw), `${device} volume today`).toBeCloseTo(Number(at?.[1]) - Number(first.points[0]?.[1]), 9);
    }
    // An alarm raised between the page's read and the API's shows on the page a flush later.
    const look = async () => {
      const listed = await w.page.$$eval('.water-alarms tr[data-alarm]', (trs) => trs.map((r) => `${r.getAttribute('data-device')}/${r.getAttribute('data-alarm')}`));
      const alarmed = (await api.latest()).filter((r) => r.class === 'water_meter' && ['leak', 'burst', 'backflow', 'dry', 'tamper', 'low_battery'].includes(r.metric) && r.value === true);
      return { listed, alarmed };
    };
    const all = (s: Awaited<ReturnType<typeof look>>) => s.alarmed.slice(0, 40).every((a) => s.listed.includes(`${a.device}/${a.metric}`));
    const seen = await waitFor(async () => {
      const s = await look();
      return all(s) ? s : undefined;
    }, 5_000).catch(look);
    for (const a of seen.alarmed.slice(0, 40)) expect(seen.listed).toContain(`${a.device}/${a.metric}`);
    await expectNoRawKeys(w.page);
    await shot('water');
  });

  it('loaded nothing but the gateway, and logged no errors', () => {
    figures['requests'] = w.requests;
    expect(w.requests).toBeGreaterThan(20);
    expect(w.foreign).toEqual([]);
    expect(w.errors).toEqual([]);
  });
});
