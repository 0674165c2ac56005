import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { NorthboundRecord } from '../../../gateway/kpi/outbox.js';
import { kpiLine } from '../../../gateway/sinks/kpi-encode.js';
import { tempDir } from '../../helpers/peers.js';
import { startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { districtDashboards } from '../../unit/deploy/district-helpers.js';

/**
 * Every PromQL/MetricsQL query of the VictoriaMetrics district dashboard, parsed and run by a real
 * VictoriaMetrics over what two gateways' KPI encoder writes: each one is valid and finds data
 * (the league table, per resident, by district, missed targets, alerts, the map, the variables).
 */
const ROOT = join(import.meta.dirname, '../../..');

describe.skipIf(!VICTORIA_METRICS)('district dashboard queries on VictoriaMetrics', () => {
  const tmp = tempDir('fcgw-district-dash-');
  let vm: VictoriaMetrics;
  const now = Date.now() - 60_000;
  const dayStart = now - 3_600_000;

  beforeAll(async () => {
    vm = await startVictoriaMetrics(tmp.dir);
    const records: NorthboundRecord[] = [];
    for (const [i, site] of ['a', 'b'].entries()) {
      records.push({ kind: 'site', site, ts: now - 600_000, name: `Community ${site}`, district: 'xihu', residents: 1000 + i, households: 400, latitude: 30.2 + i / 100, longitude: 120.1, timezone: 'Asia/Shanghai' });
      records.push({ kind: 'kpi', site, kpi: 'pv_generation', window: 'day', scope: 'site', ts: now, start: dayStart, end: dayStart + 86_400_000, closed: false, value: 5000 * (i + 1), unit: 'Wh', coverage: 1, status: i ? 'met' : 'missed', target_min: 6000, target_max: 20_000 });
      records.push({ kind: 'alert', site, id: 1, kpi: 'pv_generation', window: 'day', scope: 'site', ts: now - 1000, start: dayStart, end: dayStart + 86_400_000, active: true, status: 'missed', value: 5000, coverage: 1, bound: '≥ 6000', message: 'missed' });
    }
    const res = await fetch(`${vm.url}/write?precision=ms`, { method: 'POST', body: records.map(kpiLine).join('\n') });
    expect(res.status).toBe(204);
    await vm.flush();
  }, 30_000);
  afterAll(async () => {
    await vm?.stop();
    tmp.cleanup();
  });

  it('every query parses and returns data', async () => {
    const [dash] = districtDashboards(join(ROOT, 'deploy/grafana/district')).filter((d) => d.uid === 'fc-district-victoria');
    const fill = (q: string) => q.replaceAll('$district', '.*').replaceAll('$site', '.*').replaceAll('$kpi', 'pv_generation').replaceAll('$window', 'day');
    let ran = 0;
    for (const q of dash?.queries ?? []) {
      const text = fill(q.text);
      const lv = /^label_values\((.+), (\w+)\)$/.exec(text);
      const url = lv
        ? `${vm.url}/api/v1/label/${lv[2]}/values?${new URLSearchParams({ 'match[]': lv[1] as string })}`
        : `${vm.url}/api/v1/query?${new URLSearchParams({ query: text, time: String(now / 1000) })}`;
      const body = (await (await fetch(url)).json()) as { status: string; data: unknown[] | { result: unknown[] }; error?: string };
      expect(body.status, `${q.panel}: ${text}: ${body.error}`).toBe('success');
      const rows = Array.isArray(body.data) ? body.data : body.data.result;
      expect(rows.length, `${q.panel}: ${text}`).toBeGreaterThan(0);
      ran++;
    }
    expect(ran).toBeGreaterThanOrEqual(12);
  });
});
