import { existsSync } from 'node:fs';
import { loadConfig } from '../config/load.js';
import type { GatewayConfig, TargetConfig } from '../config/schema.js';
import { KpiPass, type KpiResult } from './compute.js';
import { calculatorOptions, effectiveTargets } from './engine.js';
import { KPI_WINDOWS, type KpiWindow } from './names.js';
import type { KpiReads } from '../store/kpi-reads.js';
import { Store } from '../store/store.js';
import { renderTable, type ReportLine } from './report-table.js';
import { boundText, judge, scopeText } from './targets.js';
import { formatLocal, windowsBetween } from './windows.js';

/**
 * `fcgw report -c FILE --kpi [--window day|month] [--from ISO] [--to ISO] [--format table|json|csv]`:
 * scene KPIs and target status from the store file, read-only (the gateway may be running).
 * Windows are those overlapping [from, to); without --from/--to, the window containing now.
 * Exit code 1 when any target shown is missed.
 */

export interface ReportArgs {
  /** Config file (its store.path names the store). */
  config: string;
  window?: string;
  from?: string;
  to?: string;
  format?: string;
  /** Evaluation time (tests); default: the system clock. */
  now?: number;
  /** Where each counter series wraps (catalog units), from the resolved site (the CLI passes it). */
  wrapOf?: (device: string, metric: string) => number | undefined;
}

export interface ReportResult {
  text: string;
  exitCode: 0 | 1;
}

export class ReportError extends Error {
  constructor(
    readonly code: 'REPORT_BAD_ARGUMENT' | 'STORE_MISSING',
    message: string,
  ) {
    super(message);
  }
}

export const REPORT_USAGE =
  'fcgw report -c FILE --kpi [--window hour|day|week|month|year] [--from ISO] [--to ISO] [--format table|json|csv]\n' +
  '  Scene KPIs and target status from the store. Exit 0, or 1 if a target is missed.';

export function runReport(args: ReportArgs): ReportResult {
  const config = loadConfig(args.config);
  const kind = (args.window ?? 'day') as KpiWindow;
  if (!KPI_WINDOWS.includes(kind)) throw new ReportError('REPORT_BAD_ARGUMENT', `--window must be one of ${KPI_WINDOWS.join(', ')}, not "${args.window}"`);
  const format = args.format ?? 'table';
  if (!['table', 'json', 'csv'].includes(format)) throw new ReportError('REPORT_BAD_ARGUMENT', `--format must be table, json or csv, not "${format}"`);
  const now = args.now ?? Date.now();
  const to = args.to !== undefined ? parseTime(args.to, '--to') : now;
  const from = args.from !== undefined ? parseTime(args.from, '--from') : to;
  if (from > to) throw new ReportError('REPORT_BAD_ARGUMENT', '--from must not be after --to');
  const path = config.store.path;
  if (path === ':memory:' || !existsSync(path)) throw new ReportError('STORE_MISSING', `no store at ${path} (has the gateway run with this config?)`);

  const store = Store.open({ path, site: config.site.id, readOnly: true });
  try {
    const lines = collect(store.kpiReads(), config, kind, from, to, now, args.wrapOf);
    const missed = lines.some((l) => l.status === 'missed');
    const site = config.site.name ? `${config.site.name} (${config.site.id})` : config.site.id;
    return { text: render(lines, format, { site, tz: config.site.timezone, now }), exitCode: missed ? 1 : 0 };
  } finally {
    store.close();
  }
}

function parseTime(s: string, name: string): number {
  const t = /^-?\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(t)) throw new ReportError('REPORT_BAD_ARGUMENT', `${name} "${s}" is not a time (ISO-8601 or epoch milliseconds)`);
  return t;
}

export function collect(q: KpiReads, config: Readonly<GatewayConfig>, kind: KpiWindow, from: number, to: number, now: number, wrapOf?: (device: string, metric: string) => number | undefined): ReportLine[] {
  const tz = config.site.timezone;
  const pass = new KpiPass(q, now, calculatorOptions(config, wrapOf));
  const targets = effectiveTargets(config).filter((t) => t.window === kind);
  const windows = from === to ? windowsBetween(kind, from, from + 1, tz, 1) : windowsBetween(kind, from, to, tz, 400);
  const lines: ReportLine[] = [];
  for (const w of windows) {
    for (const r of pass.compute(w, { site: true })) {
      const own = targets.filter((t) => t.kpi === r.kpi && 'site' in t.scope);
      if (own.length === 0) lines.push(line(r, tz));
      for (const t of own) lines.push(line(r, tz, t));
    }
    for (const t of targets.filter((x) => !('site' in x.scope))) {
      const [r] = pass.compute(w, t.scope, [t.kpi]);
      if (r) lines.push(line(r, tz, t));
    }
  }
  return lines;
}

function line(r: KpiResult, tz: string, t?: TargetConfig): ReportLine {
  const l: ReportLine = {
    window: r.window,
    start: formatLocal(r.start, tz),
    end: formatLocal(r.end, tz),
    kpi: r.kpi,
    scope: scopeText(r.scope),
    value: r.value,
    unit: r.unit,
    coverage: r.coverage,
    target: t ? boundText(t) : '',
    status: '',
    closed: r.closed,
    startMs: r.start,
  };
  if (t) {
    const v = judge(r, t);
    l.status = v.status;
    if (v.reason) l.reason = v.reason;
    l.min_coverage = t.min_coverage;
    l.bound = { ...(t.min !== undefined ? { min: t.min } : {}), ...(t.max !== undefined ? { max: t.max } : {}) };
  }
  if (r.open !== undefined) l.open = r.open;
  if (r.beyond) l.beyond = true;
  return l;
}

function render(lines: readonly ReportLine[], format: string, heading: Parameters<typeof renderTable>[1]): string {
  if (format === 'table') return renderTable(lines, heading);
  if (format === 'json') return `${JSON.stringify(lines.map(({ startMs: _s, bound: _b, ...rest }) => rest), null, 2)}\n`;
  const head = ['window_start', 'kpi', 'scope', 'value', 'unit', 'coverage', 'target', 'status', 'open'];
  const cells = lines.map((l) => [l.start, l.kpi, l.scope, l.value === null ? '' : String(l.value), l.unit, l.coverage.toFixed(4), l.target, l.status, l.open === undefined ? '' : String(l.open)]);
  return `${[head, ...cells].map((row) => row.map(csvCell).join(',')).join('\n')}\n`;
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
