import type { TargetConfig } from '../config/schema.js';
import type { TransitConfig } from '../config/transit.js';
import type { KpiWindow } from './names.js';
import type { DeviceInfo, EventRow, KpiReads } from '../store/kpi-reads.js';
import type { Measure, SeriesReader } from './source.js';
import type { RatePart } from './energy.js';

/** What a KPI definition sees: the window, the devices in scope, a reader, the site's constants. */

export type Scope = TargetConfig['scope'];

export interface KpiSettings {
  tz: string;
  residents?: number;
  /** Grid emission factor, kg CO₂ per kWh. */
  emissionFactor: number;
  contractDemand?: number;
  maxGap: number;
  nightFlowThreshold: number;
  nightFlowNights: number;
  /** The `transit:` block (buildings, stops, walking paths, shared parking). */
  transit?: TransitConfig;
}

export interface KpiContext {
  kind: KpiWindow;
  from: number;
  to: number;
  now: number;
  /** The window has ended: open starts now count against their target. */
  closed: boolean;
  scope: Scope;
  /** Devices in scope. */
  devices: readonly DeviceInfo[];
  reader: SeriesReader;
  settings: KpiSettings;
  events(types: readonly string[], from: number, to: number): EventRow[];
}

/** A KPI's value before it is dressed as a result. */
export interface KpiValue {
  value: number | null;
  coverage: number;
  series: string[];
  beyond?: boolean;
  open?: number;
  detail?: Record<string, number | string | string[]>;
}

/** The sum of one quantity over several series, with the share of it measured on good input. */
export interface Term {
  value: number;
  coverage: number;
  series: string[];
  n: number;
}

/**
 * A sum over several series. Its coverage is the share of the (estimated) total that was
 * measured on good input, not the mean of the series' coverages: a master water meter that has
 * seen 1 % of the day beside thirty household meters that have seen all of it is 1 % of the
 * water, not 97 % of the meters. Each series' amount over the whole window is estimated as
 * value / coverage; one with no coverage counts as what it shows when that is more than zero
 * (a counter bridging a long gap), else as an average series of the set. When every series
 * shows zero (PV at night) there is nothing to weigh by, and the plain mean is used.
 */
export function term(measures: readonly (Measure | undefined)[]): Term {
  const ms = measures.filter((m): m is Measure => m !== undefined);
  const parts = ms.map((m) => ({ v: Math.max(0, m.value), c: m.spanMs > 0 ? Math.min(1, m.coveredMs / m.spanMs) : 0 }));
  const value = ms.reduce((a, m) => a + m.value, 0);
  const series = ms.map((m) => m.series);
  if (parts.length === 0) return { value, coverage: 0, series, n: 0 };
  const known = parts.filter((p) => p.c > 0).map((p) => p.v / p.c);
  const average = known.length ? known.reduce((a, e) => a + e, 0) / known.length : 0;
  let measured = 0;
  let estimated = 0;
  for (const p of parts) {
    if (p.c > 0) measured += p.v;
    estimated += p.c > 0 ? p.v / p.c : p.v > 0 ? p.v : average;
  }
  const mean = parts.reduce((a, p) => a + p.c, 0) / parts.length;
  return { value, coverage: estimated > 0 ? Math.min(1, measured / estimated) : mean, series, n: ms.length };
}

/**
 * Coverage of a formula: the lowest of its terms' coverages (terms without any series, such as
 * a battery a site does not have, count as zero energy and do not lower it). A dead grid meter
 * beside twenty healthy inverters must not pass as 95 % good input.
 */
export function combine(terms: readonly Term[]): { coverage: number; series: string[] } {
  const present = terms.filter((t) => t.n > 0);
  return {
    coverage: present.length ? Math.min(...present.map((t) => t.coverage)) : 0,
    series: [...new Set(present.flatMap((t) => t.series))],
  };
}

export function ofClass(ctx: KpiContext, cls: string): DeviceInfo[] {
  return ctx.devices.filter((d) => d.class === cls);
}

/**
 * Devices whose energy or volume adds up to a total. A master meter (`role: master`) is the
 * point of connection: where the scope holds one, the masters are the total and every other
 * meter of the same class (for water, of the same water_type) is behind them, tagged `sub` or
 * not; adding an untagged building or household meter to its master would count it twice.
 * A meter tagged `sub` is behind a meter the scope may not hold (a household meter behind the
 * community's connection): it is the total only of a scope that holds no other meter of its kind
 * (a building's own scope), never added to one that does.
 */
export function totalling(ctx: KpiContext, cls: string): DeviceInfo[] {
  const list = ofClass(ctx, cls);
  const group = (d: DeviceInfo) => (cls === 'water_meter' ? (d.tags['water_type'] ?? '') : '');
  const mastered = new Set(list.filter((d) => d.tags['role'] === 'master').map(group));
  const unmetered = new Set(list.filter((d) => d.tags['role'] !== 'sub').map(group));
  return list.filter((d) => (mastered.has(group(d)) ? d.tags['role'] === 'master' : d.tags['role'] !== 'sub' || !unmetered.has(group(d))));
}

/** Energy from a device's counter, or its integrated rate where it has no counter. */
export function energy(ctx: KpiContext, device: string, counter: string, rate: string, part: RatePart): Measure | undefined {
  const r = ctx.reader;
  if (r.has(device, counter)) return r.counter(device, counter, ctx.from, ctx.to);
  if (r.has(device, rate)) return r.rate(device, rate, ctx.from, ctx.to, part);
  return undefined;
}

export const ratio = (num: number, den: number): number | null => (den > 0 ? num / den : null);

export function makeEventSource(q: KpiReads): KpiContext['events'] {
  const memo = new Map<string, EventRow[]>();
  return (types, from, to) => {
    const key = `${types.join(',')}:${from}:${to}`;
    let rows = memo.get(key);
    if (!rows) {
      rows = q.events(types, from, to);
      memo.set(key, rows);
    }
    return rows;
  };
}
