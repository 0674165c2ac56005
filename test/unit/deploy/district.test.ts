import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configSchema } from '../../../gateway/config/schema.js';
import { KPI_NAMES } from '../../../gateway/kpi/names.js';
import type { NorthboundRecord } from '../../../gateway/kpi/outbox.js';
import { kpiLine } from '../../../gateway/sinks/kpi-encode.js';
import { districtDashboards, districtSeries, type DistrictDashboard } from './district-helpers.js';

/**
 * The district deployment (#17) as data: Grafana provisions the District folder and the
 * VictoriaMetrics datasource from docker-compose.yml's mounts; every query of both district
 * dashboards (Flux on InfluxDB 2, PromQL/MetricsQL on VictoriaMetrics), variables included, is
 * well formed and names only what the gateways send: measurements, fields and tags of the KPI
 * encoder (read off its own output, not a list kept beside it), and catalog KPI names.
 * test/integration/district/dashboards.test.ts runs the PromQL on a real VictoriaMetrics.
 */
const ROOT = join(import.meta.dirname, '../../..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { volumes?: string[]; image?: string; profiles?: string[]; ports?: string[] }> };
const dashboards = districtDashboards(join(ROOT, 'deploy/grafana/district'));
const byUid = (uid: string) => dashboards.find((d) => d.uid === uid) as DistrictDashboard;

// Everything the encoder can write: one record of each kind with every optional field set.
const sample: NorthboundRecord[] = [
  { kind: 'kpi', site: 's', kpi: 'pv_generation', window: 'day', scope: 'site', ts: 1, start: 0, end: 2, closed: true, value: 1, unit: 'Wh', coverage: 1, status: 'met', reason: 'r', target_min: 1, target_max: 2 },
  { kind: 'alert', site: 's', id: 1, kpi: 'pv_generation', window: 'day', scope: 'site', ts: 1, start: 0, end: 2, active: true, status: 'missed', value: 1, coverage: 1, bound: 'b', message: 'm' },
  { kind: 'site', site: 's', ts: 1, name: 'n', district: 'd', residents: 1, households: 1, latitude: 1, longitude: 1, timezone: 'Asia/Shanghai' },
];
const series = districtSeries(sample.map(kpiLine));

describe('district dashboards', () => {
  it('Grafana provisions the District folder and the VictoriaMetrics datasource; compose runs VictoriaMetrics under the district profile', () => {
    const mounts = new Map((compose.services['grafana']?.volumes ?? []).map((v) => v.split(':').slice(0, 2).reverse() as [string, string]));
    const provider = parse(read('deploy/grafana/provisioning/dashboards/district.yaml')) as { providers: { folder: string; options: { path: string } }[] };
    expect(provider.providers[0]?.folder).toBe('District');
    expect(mounts.get(provider.providers[0]?.options.path ?? '')).toBe('./deploy/grafana/district');
    const vmSource = parse(read('deploy/grafana/provisioning/datasources/victoriametrics.yaml')) as { datasources: { uid: string; type: string; url: string }[] };
    const vm = compose.services['victoriametrics'];
    expect(vm?.profiles).toEqual(['district']);
    expect(vm?.image).toMatch(/^victoriametrics\/victoria-metrics:v\d+\.\d+\.\d+$/);
    expect(vmSource.datasources[0]).toMatchObject({ uid: 'fc-victoria', type: 'prometheus', url: 'http://victoriametrics:8428' });
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['fc-district-influxdb', 'fc-district-victoria']);
  });

  it('every query is well formed and uses its dashboard datasource', () => {
    for (const d of dashboards) {
      expect(d.queries.length, d.file).toBeGreaterThanOrEqual(8);
      for (const q of d.queries) {
        const where = `${d.file}: ${q.panel}`;
        expect(q.datasourceUid, where).toBe(d.file.includes('victoria') ? 'fc-victoria' : 'fc-influxdb');
        expect(balanced(q.text), `${where}: unbalanced brackets or quotes\n${q.text}`).toBe(true);
      }
    }
  });

  it('Flux names only the measurements, fields and tags the gateways send, and catalog KPIs', () => {
    for (const q of byUid('fc-district-influxdb').queries) {
      const where = `Flux ${q.panel}`;
      const measurements = [...q.text.matchAll(/r\._measurement == "([^"]+)"/g)].map((m) => m[1] as string);
      for (const m of measurements) expect([...series.measurements.keys()], where).toContain(m);
      const fields = [...q.text.matchAll(/r\._field == "([^"]+)"/g)].map((m) => m[1] as string);
      for (const f of fields) expect(measurements.some((m) => series.measurements.get(m)?.fields.has(f)), `${where}: field ${f}`).toBe(true);
      // A column is a tag, or a field pivoted into a column.
      const columns = new Set([...series.tags, ...measurements.flatMap((m) => [...(series.measurements.get(m)?.fields ?? [])])]);
      for (const [, col] of q.text.matchAll(/\br\.(\w+) (?:==|=~)/g)) if (!col?.startsWith('_')) expect([...columns], `${where}: column ${col}`).toContain(col);
      for (const [, k] of q.text.matchAll(/r\.kpi == "([^"$]+)"/g)) expect(KPI_NAMES, where).toContain(k);
    }
  });

  it('PromQL names only the series the gateways send (kpi_*, kpi_alert_*, site_*), their labels, and catalog KPIs', () => {
    for (const q of byUid('fc-district-victoria').queries) {
      const where = `PromQL ${q.panel}: ${q.text}`;
      const names = [...q.text.replace(/"[^"]*"/g, '""').matchAll(/\b((?:kpi|site)_[a-z_]+)\b/g)].map((m) => m[1] as string);
      expect(names.length, where).toBeGreaterThan(0);
      for (const n of names) expect(series.vmNames, where).toContain(n);
      for (const [, label] of q.text.matchAll(/[{,]\s*(\w+)\s*(?:=~|!=|=)/g)) expect(series.tags, where).toContain(label);
      for (const [, label] of q.text.matchAll(/(?:\bby|\bon|\bgroup_left|\blabel_values\([^,]+,)\s*\(?\s*(\w+)/g)) if (label) expect(series.tags, where).toContain(label);
      for (const [, k] of q.text.matchAll(/kpi="([^"$]+)"/g)) expect(KPI_NAMES, where).toContain(k);
    }
  });

  it('offers district, community, KPI and window choices the gateways send, and drills down to the community dashboards', () => {
    const windows = configSchema.shape.kpi.unwrap().shape.northbound.unwrap().shape.windows.unwrap().element.options;
    for (const d of dashboards) {
      expect(d.variables.map((v) => v.name)).toEqual(['district', 'site', 'kpi', 'window']);
      const win = d.variables.find((v) => v.name === 'window');
      for (const w of win?.query.split(',') ?? []) expect(windows, d.file).toContain(w);
      expect(KPI_NAMES).toContain(d.variables.find((v) => v.name === 'kpi')?.current);
      const league = d.panels.find((p) => p.title === 'League table');
      expect(league?.links.map((l) => l.url.split('?')[0]).sort(), d.file).toEqual(['/d/fc-low-carbon', '/d/fc-transport']);
    }
    const community = ['low-carbon', 'transport'].map((f) => (JSON.parse(read(`deploy/grafana/dashboards/${f}.json`)) as { uid: string }).uid);
    expect(community.sort()).toEqual(['fc-low-carbon', 'fc-transport']);
  });
});

/** Brackets nest and close, outside string literals (a parser's first check; no Flux or PromQL parser is installable here). */
function balanced(text: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"') quote = c;
    else if (c === '/' && /[=~]\s*$/.test(text.slice(0, i))) {
      const end = text.indexOf('/', i + 1);
      if (end < 0) return false;
      i = end;
    } else if ('([{'.includes(c)) stack.push(c);
    else if (c in pairs && stack.pop() !== pairs[c]) return false;
  }
  return stack.length === 0 && quote === undefined;
}
