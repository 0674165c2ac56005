import type { Page } from 'playwright-core';
import { expect } from 'vitest';

/** Comparisons of what the page shows with what the gateway's API says. */

export interface ApiLatest {
  device: string;
  class: string;
  metric: string;
  ts: string;
  value: unknown;
  unit: string | null;
  quality: string;
}

export interface ApiDevice {
  id: string;
  class: string;
  tags: Record<string, string>;
  status: string;
}

export interface ApiKpi {
  kpi: string;
  window: string;
  value: number | null;
  unit: string;
  status: string;
  scope: string;
  target?: { min?: number; max?: number };
}

export interface ApiEvent {
  ts: string;
  device: string;
  type: string;
  attributes: Record<string, unknown>;
}

export function apiClient(base: string) {
  const get = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${base}${path}`);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    get,
    latest: () => get<ApiLatest[]>('/api/latest'),
    devices: () => get<ApiDevice[]>('/api/devices'),
    kpis: (window: string) => get<ApiKpi[]>(`/api/kpis?window=${window}`),
    events: (type: string, limit = 1000) => get<ApiEvent[]>(`/api/events?type=${type}&limit=${limit}`),
    /** The stored value of a series at exactly `ts`. */
    valueAt: async (device: string, metric: string, ts: number) => {
      const s = await get<{ points: [string, unknown, string][] }>(`/api/series?device=${device}&metric=${metric}&from=${ts}&to=${ts + 1}`);
      return s.points[0];
    },
  };
}
export type Api = ReturnType<typeof apiClient>;

export interface Shown {
  device: string;
  metric: string;
  raw: string;
  ts: number;
  quality: string;
}

/** Every value on screen that is one device's metric (metricEl in the page). */
export function shownMetrics(page: Page): Promise<Shown[]> {
  return page.$$eval('.val[data-device][data-metric]', (els) =>
    els.map((e) => {
      const d = (e as HTMLElement).dataset;
      return { device: d['device'] ?? '', metric: d['metric'] ?? '', raw: d['raw'] ?? '', ts: Number(d['ts'] || 0), quality: d['quality'] ?? '' };
    }),
  );
}

const key = (device: string, metric: string) => `${device}/${metric}`;

/**
 * Every device value on screen is the value the API holds for that series at the timestamp the
 * page shows, and the page is live: within `catchUpMs` it shows, for every series, at least what
 * the API held before the check began (a bound on how late the live stream may be, kept loose
 * because a loaded CI machine delays the browser too). Returns how many values were checked.
 */
export async function expectShownMatchApi(page: Page, api: Api, catchUpMs = 10_000): Promise<number> {
  const before = new Map((await api.latest()).map((r) => [key(r.device, r.metric), r]));
  const caughtUp = (list: Awaited<ReturnType<typeof shownMetrics>>) =>
    list.every((s) => {
      const was = before.get(key(s.device, s.metric));
      return !was || s.ts >= Date.parse(was.ts);
    });
  const deadline = performance.now() + catchUpMs;
  let shown = await shownMetrics(page);
  while (!caughtUp(shown) && performance.now() < deadline) {
    await page.waitForTimeout(200);
    shown = await shownMetrics(page);
  }
  const after = new Map((await api.latest()).map((r) => [key(r.device, r.metric), r]));
  let checked = 0;
  for (const s of shown) {
    const was = before.get(key(s.device, s.metric));
    const now = after.get(key(s.device, s.metric));
    if (!now) {
      expect(s.raw, `${s.device}.${s.metric} has no value in the API, so none on screen`).toBe('');
      continue;
    }
    if (was) expect(s.ts, `${s.device}.${s.metric} is live`).toBeGreaterThanOrEqual(Date.parse(was.ts));
    const apiValue = Date.parse(now.ts) === s.ts ? now.value : (await api.valueAt(s.device, s.metric, s.ts))?.[1];
    expect(s.raw, `${s.device}.${s.metric} at ${new Date(s.ts).toISOString()}`).toBe(apiValue === null || apiValue === undefined ? '' : String(apiValue));
    checked += 1;
  }
  return checked;
}

/** The raw number shown in a value element (data-raw), or null when it shows none. */
export async function rawOf(page: Page, selector: string): Promise<number | null> {
  const raw = await page.$eval(selector, (e) => (e as HTMLElement).dataset['raw'] ?? '');
  return raw === '' ? null : Number(raw);
}

/** A KPI on screen agrees with the API's (values move with the simulation: within `rel`). */
/** Whether a shown KPI value is the API's, within `rel` (both absent counts as equal). */
export function kpiClose(shown: number | null, api: ApiKpi | undefined, rel = 0.05): boolean {
  if (!api || api.value === null) return shown === null;
  return shown !== null && Math.abs(shown - api.value) <= Math.max(Math.abs(api.value) * rel, 1e-9);
}

export function expectKpiClose(shown: number | null, api: ApiKpi | undefined, label: string, rel = 0.05): void {
  if (!api || api.value === null) {
    expect(shown, `${label}: the API has no value`).toBeNull();
    return;
  }
  expect(shown, `${label}: the API has ${api.value}`).not.toBeNull();
  const tol = Math.max(Math.abs(api.value) * rel, 1e-9);
  expect(Math.abs((shown as number) - api.value), `${label}: page ${shown}, API ${api.value}`).toBeLessThanOrEqual(tol);
}

/** Visible text must never show an untranslated key such as "nav.energy". */
export async function expectNoRawKeys(page: Page): Promise<void> {
  const text = await page.evaluate(() => document.body.innerText);
  const keys = text.match(/\b(?:nav|kpi|class|metric|enum|event|energy|parking|parcels|doors|water|targets|devices|common|status|window|quality|alerts|live|method)\.[a-z][a-zA-Z_.]*/g);
  expect(keys ?? []).toEqual([]);
}
