import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Target {
  query?: string;
  expr?: string;
  datasource?: { uid?: string };
}
interface Panel {
  title?: string;
  datasource?: { uid?: string };
  targets?: Target[];
  fieldConfig?: { defaults?: { links?: { url: string }[] } };
}
interface Variable {
  name: string;
  type: string;
  query: string | { query: string };
  datasource?: { uid?: string };
  current?: { value?: unknown };
}

export interface DistrictDashboard {
  file: string;
  uid: string;
  /** Panel targets and query variables, each with the datasource it runs on. */
  queries: { panel: string; datasourceUid: string | undefined; text: string }[];
  variables: { name: string; query: string; current: unknown }[];
  panels: { title: string; links: { url: string }[] }[];
}

/** The district dashboards of a folder, read the way Grafana reads them. */
export function districtDashboards(dir: string): DistrictDashboard[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((file) => {
      const d = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Variable[] } };
      const queries: DistrictDashboard['queries'] = [];
      for (const p of d.panels) {
        for (const t of p.targets ?? []) queries.push({ panel: p.title ?? '?', datasourceUid: t.datasource?.uid ?? p.datasource?.uid, text: t.query ?? t.expr ?? '' });
      }
      const variables = d.templating.list.map((v) => ({ name: v.name, query: typeof v.query === 'string' ? v.query : v.query.query, current: v.current?.value }));
      for (const v of d.templating.list) if (v.type === 'query') queries.push({ panel: `variable ${v.name}`, datasourceUid: v.datasource?.uid, text: typeof v.query === 'string' ? v.query : v.query.query });
      const panels = d.panels.map((p) => ({ title: p.title ?? '?', links: p.fieldConfig?.defaults?.links ?? [] }));
      return { file, uid: d.uid, queries, variables, panels };
    });
}

/**
 * What a set of line-protocol lines writes: per measurement its fields, every tag key, and the
 * series names VictoriaMetrics makes of the numeric fields (`{measurement}_{field}`; a
 * measurement's `info`-style field `site info=1` becomes `site_info`).
 */
export function districtSeries(lines: string[]): { measurements: Map<string, { fields: Set<string> }>; tags: Set<string>; vmNames: Set<string> } {
  const measurements = new Map<string, { fields: Set<string> }>();
  const tags = new Set<string>();
  const vmNames = new Set<string>();
  for (const line of lines) {
    const [key = '', fieldText = ''] = line.split(/(?<!\\) /);
    const [measurement = '', ...tagPairs] = key.split(/(?<!\\),/);
    for (const t of tagPairs) tags.add(t.split('=')[0] as string);
    const m = measurements.get(measurement) ?? { fields: new Set<string>() };
    measurements.set(measurement, m);
    for (const f of fieldText.split(/,(?=\w+=)/)) {
      const [name = '', value = ''] = f.split(/=(.*)/s);
      m.fields.add(name);
      if (!value.startsWith('"')) vmNames.add(`${measurement}_${name}`);
    }
  }
  return { measurements, tags, vmNames };
}
