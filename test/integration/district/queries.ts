import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The district dashboards' queries by panel (deploy/grafana/dashboards/district-*.json). */
const ROOT = join(import.meta.dirname, '../../..');
interface Panel { title?: string; targets?: { expr?: string; query?: string; refId?: string }[] }
function panelQuery(file: string, title: string, key: 'expr' | 'query'): string {
  const d = JSON.parse(readFileSync(join(ROOT, 'deploy/grafana/dashboards', file), 'utf8')) as { panels: Panel[] };
  const p = d.panels.find((x) => x.title === title);
  const q = p?.targets?.[0]?.[key];
  if (!q) throw new Error(`${file}: no panel "${title}" with a ${key}`);
  return q;
}
export const DISTRICT_QUERIES = {
  get promql() {
    return { league: panelQuery('district-victoria.json', 'League table', 'expr') };
  },
};
