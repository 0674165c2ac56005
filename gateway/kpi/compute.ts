import { makeEventSource, type KpiContext, type KpiSettings, type KpiValue, type Scope } from './context.js';
import { balance, lowCarbon, type Balance } from './low-carbon.js';
import { KPIS, KPI_NAMES, type KpiWindow, type Scene } from './names.js';
import type { DeviceInfo, KpiReads } from '../store/kpi-reads.js';
import { service } from './service.js';
import { SeriesReader } from './source.js';
import { transit } from './transit.js';
import { transport } from './transport.js';
import { water } from './water.js';
import type { KpiWindowSpan } from './windows.js';

/** One KPI over one window and scope, with its coverage and the series it used. */
export interface KpiResult {
  kpi: string;
  scene: Scene;
  unit: string;
  window: KpiWindow;
  start: number;
  end: number;
  scope: Scope;
  value: number | null;
  /** Share of the window (so far) with good input, 0–1. */
  coverage: number;
  series: string[];
  /** The window has ended. */
  closed: boolean;
  /** Share of the window that has passed, 0–1 (1 once closed). */
  elapsed: number;
  /** Unmatched starts (event KPIs). */
  open?: number;
  /** The value is above every finite bound (a p95 that falls on an open start). */
  beyond?: boolean;
  detail?: Record<string, number | string | string[]>;
}

type Definition = (ctx: KpiContext, b: () => Balance) => KpiValue;

const DEFINITIONS: Record<string, Definition> = {
  ...lowCarbon,
  ...water,
  ...transport,
  ...transit,
  ...service,
};

export function selectDevices(all: readonly DeviceInfo[], scope: Scope): DeviceInfo[] {
  if ('site' in scope) return [...all];
  if ('device' in scope) return all.filter((d) => d.id === scope.device);
  return all.filter((d) => d.tags[scope.tag] === scope.value);
}

export interface CalculatorOptions {
  settings: KpiSettings;
  /** Devices from config: their tags win over the store's (the config is the source of truth). */
  configDevices?: readonly DeviceInfo[];
  wrapOf?: (device: string, metric: string) => number | undefined;
}

/**
 * One evaluation pass at one instant: the device list, series map and reads are shared by every
 * KPI, window and scope computed through it (a pass is synchronous, so the data cannot move).
 */
export class KpiPass {
  private readonly reader: SeriesReader;
  private readonly devices: DeviceInfo[];
  private readonly events: KpiContext['events'];

  constructor(
    q: KpiReads,
    readonly now: number,
    private readonly opts: CalculatorOptions,
  ) {
    q.refresh();
    this.reader = new SeriesReader(q, {
      maxGap: opts.settings.maxGap,
      now,
      ...(opts.wrapOf ? { wrapOf: opts.wrapOf } : {}),
    });
    this.devices = mergeDevices(q.devices(), opts.configDevices ?? []);
    this.events = makeEventSource(q);
  }

  compute(w: KpiWindowSpan, scope: Scope, names: readonly string[] = KPI_NAMES): KpiResult[] {
    const ctx: KpiContext = {
      kind: w.kind,
      from: w.start,
      // A window in progress is measured up to now (a device clock ahead of ours must not fill in the future).
      to: Math.min(w.end, this.now),
      now: this.now,
      closed: w.end <= this.now,
      scope,
      devices: selectDevices(this.devices, scope),
      reader: this.reader,
      settings: this.opts.settings,
      events: this.events,
    };
    let bal: Balance | undefined;
    const b = () => (bal ??= balance(ctx));
    const out: KpiResult[] = [];
    for (const kpi of names) {
      const def = DEFINITIONS[kpi];
      const info = KPIS[kpi];
      if (!def || !info) continue;
      const v = w.start >= this.now ? { value: null, coverage: 0, series: [] } : def(ctx, b);
      const r: KpiResult = {
        kpi,
        scene: info.scene,
        unit: info.unit,
        window: w.kind,
        start: w.start,
        end: w.end,
        scope,
        // With no good input at all, a sum is not 0 and a count is not "none": it is unknown.
        value: v.value !== null && Number.isFinite(v.value) && clamp01(v.coverage) > 0 ? v.value : null,
        coverage: clamp01(v.coverage),
        series: v.series,
        closed: ctx.closed,
        elapsed: ctx.closed ? 1 : clamp01((this.now - w.start) / (w.end - w.start)),
      };
      if (v.open !== undefined) r.open = v.open;
      if (v.beyond) r.beyond = true;
      if (v.detail && Object.keys(v.detail).length) r.detail = v.detail;
      out.push(r);
    }
    return out;
  }
}

function clamp01(x: number): number {
  return Number.isFinite(x) ? Math.max(0, Math.min(1, x)) : 0;
}

function mergeDevices(stored: readonly DeviceInfo[], configured: readonly DeviceInfo[]): DeviceInfo[] {
  const out = new Map(stored.map((d) => [d.id, d]));
  for (const d of configured) out.set(d.id, { ...d, tags: { ...(out.get(d.id)?.tags ?? {}), ...d.tags } });
  return [...out.values()].sort((a, b) => a.id.localeCompare(b.id));
}
