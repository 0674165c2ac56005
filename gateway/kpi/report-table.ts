import { KPI_NAMES, KPIS, type KpiWindow, type Scene } from './names.js';
import type { TargetStatus } from './targets.js';
import { localParts } from './windows.js';

/**
 * The report as a property manager reads it: one block per window, KPIs grouped by scene with
 * what they mean, values in the units people use (kWh, %, minutes), coverage, the target in the
 * same units and its status; then the targets missed, named. JSON and CSV keep raw SI values.
 */

export interface ReportLine {
  window: KpiWindow;
  start: string;
  end: string;
  kpi: string;
  scope: string;
  value: number | null;
  unit: string;
  coverage: number;
  target: string;
  status: TargetStatus | '';
  reason?: string;
  min_coverage?: number;
  open?: number;
  beyond?: boolean;
  closed: boolean;
  /** Epoch ms of the window start, for headings (not serialised). */
  startMs: number;
  bound?: { min?: number; max?: number };
}

export interface ReportHeading {
  site: string;
  tz: string;
  now: number;
}

const SCENES: Record<Scene, string> = { low_carbon: 'Low-carbon', transport: 'Transport', service: 'Service (access control)' };
const WINDOW_NAMES: Record<KpiWindow, string> = { '15m': '15 minutes', hour: 'Hour', day: 'Day', week: 'Week', month: 'Month', year: 'Year' };

/** Ratios that are shares (shown as %); the seasonal performance factor is a plain multiple. */
const isShare = (kpi: string, unit: string) => unit === 'ratio' && kpi !== 'heat_pump_spf';

const num = (v: number, digits: number) => v.toLocaleString('en-US', { maximumFractionDigits: digits });

function duration(s: number): string {
  const r = Math.round(s);
  if (r < 60) return `${r} s`;
  if (r < 3600) return r % 60 ? `${Math.floor(r / 60)} min ${String(r % 60).padStart(2, '0')} s` : `${r / 60} min`;
  return `${Math.floor(r / 3600)} h ${String(Math.floor((r % 3600) / 60)).padStart(2, '0')} min`;
}

function scaled(v: number, unit: string, steps: [number, string][]): string {
  const a = Math.abs(v);
  for (const [f, u] of steps) if (a >= f) return `${num(v / f, a / f >= 100 ? 0 : 1)} ${u}`;
  return `${num(v, a >= 100 || a === 0 ? 0 : 1)} ${unit}`;
}

/** A value in the unit a person reads. */
export function humanValue(kpi: string, unit: string, v: number): string {
  if (isShare(kpi, unit)) return `${num(v * 100, 1)} %`;
  switch (unit) {
    case 'Wh':
      return scaled(v, 'Wh', [[1e6, 'MWh'], [1e3, 'kWh']]);
    case 'W':
      return scaled(v, 'W', [[1e6, 'MW'], [1e3, 'kW']]);
    case 's':
      return duration(v);
    case 'kgCO2':
      return Math.abs(v) >= 1000 ? `${num(v / 1000, 2)} t CO₂` : `${num(v, 1)} kg CO₂`;
    case 'kgCO2/kWh':
      return `${num(v, 3)} kg CO₂/kWh`;
    case 'L/person/day':
      return `${num(v, 1)} L/person/day`;
    case 'entries/space/day':
      return `${num(v, 2)} per space/day`;
    case 'count':
      return num(v, 0);
    case 'meters':
      return v === 1 ? '1 meter' : `${num(v, 0)} meters`;
    case 'cycles':
      return `${num(v, 2)} cycles`;
    default:
      return unit === 'ratio' ? num(v, 2) : `${num(v, 2)} ${unit}`;
  }
}

function humanBound(l: ReportLine): string {
  const b = l.bound;
  if (!b) return '';
  const f = (v: number) => humanValue(l.kpi, l.unit, v);
  if (b.min !== undefined && b.max !== undefined) return `${f(b.min)} … ${f(b.max)}`;
  if (b.max !== undefined) return `≤ ${f(b.max)}`;
  return b.min !== undefined ? `≥ ${f(b.min)}` : '';
}

function statusText(l: ReportLine): string {
  if (l.status === 'missed') return 'MISSED';
  if (l.status !== 'unknown') return l.status;
  if (l.reason === 'low_coverage') return `unknown: coverage under ${Math.round((l.min_coverage ?? 0.9) * 100)} %`;
  if (l.reason === 'too_early') return 'unknown: too early in the window';
  return 'unknown: nothing measured';
}

function valueText(l: ReportLine): string {
  if (l.value !== null) return humanValue(l.kpi, l.unit, l.value);
  return l.beyond ? 'over every bound' : '–';
}

function noteText(l: ReportLine): string {
  if (!l.open) return '';
  return l.closed ? `${l.open} never completed` : `${l.open} open`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

function windowTitle(l: ReportLine, h: ReportHeading): string {
  const p = localParts(l.startMs, h.tz);
  const date = `${p.year}-${pad2(p.month)}-${pad2(p.day)}`;
  const time = `${pad2(p.hour)}:${pad2(p.minute)}`;
  const name: Record<KpiWindow, string> = {
    '15m': `${date} ${time} for 15 minutes`,
    hour: `${date} ${time}–${pad2((p.hour + 1) % 24)}:00`,
    day: date,
    week: `from Monday ${date}`,
    month: `${p.year}-${pad2(p.month)}`,
    year: String(p.year),
  };
  let state = 'closed';
  if (!l.closed) {
    const n = localParts(h.now, h.tz);
    state = `in progress, measured to ${n.year}-${pad2(n.month)}-${pad2(n.day)} ${pad2(n.hour)}:${pad2(n.minute)}`;
  }
  return `${WINDOW_NAMES[l.window]} ${name[l.window]} (${state})`;
}

/** Width of a string in a terminal: CJK and full-width characters take two columns. */
function width(s: string): number {
  let w = 0;
  for (const ch of s) w += /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch) ? 2 : 1;
  return w;
}

const padEnd = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - width(s)));

/** Position of a KPI in KPI_NAMES (-1 for one not there, as indexOf). */
const KPI_INDEX = new Map(KPI_NAMES.map((k, i) => [k, i]));
const kpiOrder = (kpi: string) => KPI_INDEX.get(kpi) ?? -1;

export function renderTable(lines: readonly ReportLine[], h: ReportHeading): string {
  const out: string[] = [`${h.site}: scene KPIs and targets (times in ${h.tz})`];
  const head = ['KPI', 'what it measures', 'value', 'coverage', 'target', 'status', 'note'];
  const byWindow = new Map<number, ReportLine[]>();
  for (const l of lines) {
    const group = byWindow.get(l.startMs);
    if (group) group.push(l);
    else byWindow.set(l.startMs, [l]);
  }
  for (const group of byWindow.values()) {
    // A target on a device or a group sits under the site's row of the same KPI (a stable sort).
    group.sort((a, b) => kpiOrder(a.kpi) - kpiOrder(b.kpi));
    const first = group[0] as ReportLine;
    const rows: (string[] | string)[] = [];
    let scene: string | undefined;
    for (const l of group) {
      const s = KPIS[l.kpi]?.scene ?? 'low_carbon';
      if (s !== scene) rows.push(SCENES[s]);
      scene = s;
      const name = l.scope === 'site' ? l.kpi : `${l.kpi} [${l.scope}]`;
      rows.push([name, KPIS[l.kpi]?.description ?? '', valueText(l), `${Math.round(l.coverage * 100)} %`, humanBound(l), l.target ? statusText(l) : '', noteText(l)]);
    }
    const cells = rows.filter((r): r is string[] => Array.isArray(r));
    const widths = head.map((x, i) => Math.max(width(x), ...cells.map((c) => width(c[i] ?? ''))));
    const fmt = (row: string[]) => `  ${row.map((c, i) => padEnd(c, widths[i] ?? 0)).join('  ')}`.trimEnd();
    out.push('', windowTitle(first, h), fmt(head), fmt(widths.map((w) => '-'.repeat(w))));
    for (const r of rows) out.push(typeof r === 'string' ? `  ${r}` : fmt(r));
  }
  const judged = lines.filter((l) => l.target);
  const count = (s: TargetStatus) => judged.filter((l) => l.status === s).length;
  out.push(
    '',
    'Coverage is the share of the window (so far) backed by good input data; below a target’s minimum',
    'coverage (90 % unless configured) its status is unknown rather than a guess.',
    `Targets: ${count('met')} met, ${count('missed')} missed, ${count('unknown')} unknown.`,
  );
  for (const l of judged.filter((x) => x.status === 'missed')) {
    out.push(`  MISSED ${l.kpi}${l.scope === 'site' ? '' : ` [${l.scope}]`}, ${l.window} from ${l.start}: ${valueText(l)}, target ${humanBound(l)}`);
  }
  return `${out.join('\n')}\n`;
}
