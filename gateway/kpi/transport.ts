import { ofClass, ratio, type KpiContext, type KpiValue } from './context.js';
import { matchEvents, overdueCount, promiseStats, type KeyedEvent } from './events.js';
import type { EventRow } from '../store/kpi-reads.js';

/** Transport scene: the 5- and 30-minute promises, parking, charging, lockers (spec/kpis.md). */

const DAY = 86_400_000;
/** Completions are looked for up to this long after the window (a car or parcel still open after a week is open). */
export const COMPLETION_HORIZON = 7 * DAY;
const OVERDUE_MS = 48 * 3_600_000;
/** Deposits older than this are no longer looked at for the overdue count. */
const OVERDUE_LOOKBACK = 30 * DAY;

/** The series that shows a device class is alive, for the coverage of its event KPIs. */
const LIVENESS: Record<string, string> = {
  parking_garage: 'spaces_free',
  parcel_locker: 'compartments_occupied',
  access_door: 'door_open',
};

/**
 * Coverage of event KPIs: the mean, over the devices of the class in scope, of the coverage of
 * their liveness series. A device that only sends events is covered when it sent one.
 */
export function eventCoverage(ctx: KpiContext, cls: string, events: readonly EventRow[]): { coverage: number; series: string[] } {
  const devices = ofClass(ctx, cls);
  const metric = LIVENESS[cls] ?? '';
  if (devices.length === 0) return { coverage: events.length ? 1 : 0, series: [] };
  let sum = 0;
  const series: string[] = [];
  for (const d of devices) {
    const m = ctx.reader.coverage(d.id, metric, ctx.from, ctx.to);
    if (m) {
      sum += m.spanMs > 0 ? Math.min(1, m.coveredMs / m.spanMs) : 0;
      series.push(m.series);
    } else sum += events.some((e) => e.device === d.id) ? 1 : 0;
  }
  return { coverage: sum / devices.length, series };
}

function inScope(ctx: KpiContext, rows: readonly EventRow[]): EventRow[] {
  if ('site' in ctx.scope) return [...rows];
  const ids = new Set(ctx.devices.map((d) => d.id));
  return rows.filter((r) => ids.has(r.device));
}

const keyed = (rows: readonly EventRow[], attr: string): KeyedEvent[] =>
  rows.flatMap((r) => {
    const k = r.attributes[attr];
    return k === undefined ? [] : [{ ts: r.ts, key: String(k) }];
  });

interface PromiseDef {
  cls: string;
  start: string[];
  end: string[];
  key: string;
  limitMs: number;
}

const RETRIEVAL: PromiseDef = { cls: 'parking_garage', start: ['retrieval_requested'], end: ['retrieval_completed'], key: 'request_id', limitMs: 300_000 };
const PARCEL: PromiseDef = { cls: 'parcel_locker', start: ['parcel_arrived'], end: ['parcel_picked_up', 'parcel_delivered'], key: 'parcel', limitMs: 1_800_000 };
/** The start/completion pairs of the promise KPIs: a late completion re-judges its start's window (engine.ts). */
export const PAIRINGS: readonly PromiseDef[] = [RETRIEVAL, PARCEL];
/** The KPIs that pair starts with completions. */
export const PROMISE_KPIS: ReadonlySet<string> = new Set(['car_retrieval_time_p95', 'car_retrieval_within_5min', 'parcel_to_door_time_p95', 'parcel_within_30min']);

function promise(ctx: KpiContext, p: PromiseDef, which: 'p95' | 'within'): KpiValue {
  const starts = inScope(ctx, ctx.events(p.start, ctx.from, ctx.to));
  // Completions are matched wherever they were recorded (a parcel arrives at the logistics point, is picked up at a locker).
  const ends = ctx.events(p.end, ctx.from, Math.min(ctx.now, ctx.to + COMPLETION_HORIZON) + 1);
  const m = matchEvents(keyed(starts, p.key), keyed(ends, p.key));
  const st = promiseStats(m, p.limitMs, ctx.now, ctx.closed);
  const cov = eventCoverage(ctx, p.cls, starts);
  return {
    value: which === 'p95' ? st.p95 : st.within,
    ...cov,
    series: [...cov.series, ...p.start.map((t) => `events/${t}`), ...p.end.map((t) => `events/${t}`)],
    open: st.open,
    ...(which === 'p95' && st.beyond ? { beyond: true } : {}),
    detail: { completed: st.completed, open: st.open, open_counted: st.openCounted, unmatched_completions: m.unmatchedEnds },
  };
}

function occupancy(ctx: KpiContext): KpiValue {
  let occupied = 0;
  let covered = 0;
  let span = 0;
  const series: string[] = [];
  const spaces = ofClass(ctx, 'parking_space');
  for (const d of spaces) {
    const s = ctx.reader.states(d.id, 'occupied', ctx.from, ctx.to);
    span += Math.max(0, Math.min(ctx.to, ctx.now) - ctx.from);
    if (!s) continue;
    occupied += s.times.get('true') ?? 0;
    covered += s.coveredMs;
    series.push(`${d.id}/occupied`);
  }
  // Occupied share of the space-time actually observed; the unobserved rest lowers coverage.
  return { value: ratio(occupied, covered), coverage: span > 0 ? covered / span : 0, series };
}

/** Spaces: the garages' spaces_total where reported, else the parking_space sensors in scope. */
function spaceCount(ctx: KpiContext): { spaces: number; series: string[] } {
  let spaces = 0;
  const series: string[] = [];
  for (const g of ofClass(ctx, 'parking_garage')) {
    const v = ctx.reader.valueAt(g.id, 'spaces_total', Math.min(ctx.to, ctx.now), Number.POSITIVE_INFINITY);
    if (v !== undefined) {
      spaces += v;
      series.push(`${g.id}/spaces_total`);
    }
  }
  if (spaces > 0) return { spaces, series };
  return { spaces: ofClass(ctx, 'parking_space').length, series: [] };
}

export const transport: Record<string, (ctx: KpiContext) => KpiValue> = {
  car_retrieval_time_p95: (ctx) => promise(ctx, RETRIEVAL, 'p95'),
  car_retrieval_within_5min: (ctx) => promise(ctx, RETRIEVAL, 'within'),
  parcel_to_door_time_p95: (ctx) => promise(ctx, PARCEL, 'p95'),
  parcel_within_30min: (ctx) => promise(ctx, PARCEL, 'within'),
  parking_occupancy: occupancy,
  parking_turnover: (ctx) => {
    const entries = inScope(ctx, ctx.events(['vehicle_entry'], ctx.from, ctx.to));
    const { spaces, series } = spaceCount(ctx);
    const days = (Math.min(ctx.to, ctx.now) - ctx.from) / DAY;
    const cov = eventCoverage(ctx, 'parking_garage', entries);
    return { value: spaces > 0 && days > 0 ? entries.length / spaces / days : null, coverage: cov.coverage, series: [...cov.series, ...series, 'events/vehicle_entry'], detail: { entries: entries.length, spaces } };
  },
  parking_free_spaces_min: (ctx) => {
    let min: number | null = null;
    const cov = eventCoverage(ctx, 'parking_garage', []);
    for (const g of ofClass(ctx, 'parking_garage')) {
      for (const p of ctx.reader.ratePoints(g.id, 'spaces_free', ctx.from, ctx.to)) {
        if (p.ts < ctx.from || p.ts >= ctx.to) continue;
        if (min === null || p.v < min) min = p.v;
      }
    }
    return { value: min, ...cov };
  },
  charging_provision: (ctx) => {
    const spaces = ofClass(ctx, 'parking_space');
    let known = 0;
    let chargers = 0;
    const series: string[] = [];
    for (const d of spaces) {
      const v = ctx.reader.valueAt(d.id, 'has_charger', Math.min(ctx.to, ctx.now), Number.POSITIVE_INFINITY);
      const tag = d.tags['has_charger'];
      const has = v !== undefined ? v === 1 : tag !== undefined ? tag === 'true' : undefined;
      if (has === undefined) continue;
      known++;
      if (has) chargers++;
      if (v !== undefined) series.push(`${d.id}/has_charger`);
    }
    // A static property: coverage is the share of spaces whose charger status is known.
    return { value: ratio(chargers, spaces.length), coverage: spaces.length ? known / spaces.length : 0, series, detail: { spaces: spaces.length, with_charger: chargers } };
  },
  charger_utilisation: (ctx) => {
    let charging = 0;
    let available = 0;
    let covered = 0;
    let span = 0;
    const series: string[] = [];
    for (const d of ofClass(ctx, 'ev_charger')) {
      const s = ctx.reader.states(d.id, 'status', ctx.from, ctx.to);
      span += Math.max(0, Math.min(ctx.to, ctx.now) - ctx.from);
      if (!s) continue;
      series.push(`${d.id}/status`);
      covered += s.coveredMs;
      for (const [state, ms] of s.times) {
        if (state === 'unavailable' || state === 'faulted') continue;
        available += ms;
        if (state === 'charging') charging += ms;
      }
    }
    return { value: ratio(charging, available), coverage: span > 0 ? covered / span : 0, series };
  },
  parcels_overdue: (ctx) => {
    const ref = Math.min(ctx.to, ctx.now);
    const deposits = inScope(ctx, ctx.events(['parcel_deposited'], ref - OVERDUE_LOOKBACK, ref - OVERDUE_MS + 1));
    const done = ctx.events(['parcel_picked_up', 'parcel_delivered'], ref - OVERDUE_LOOKBACK, ref + 1);
    const cov = eventCoverage(ctx, 'parcel_locker', []);
    return { value: overdueCount(keyed(deposits, 'parcel'), keyed(done, 'parcel'), ref, OVERDUE_MS), ...cov, series: [...cov.series, 'events/parcel_deposited', 'events/parcel_picked_up', 'events/parcel_delivered'] };
  },
  locker_occupancy: (ctx) => {
    let max: number | null = null;
    const cov = eventCoverage(ctx, 'parcel_locker', []);
    for (const l of ofClass(ctx, 'parcel_locker')) {
      const total = ctx.reader.valueAt(l.id, 'compartments_total', Math.min(ctx.to, ctx.now), Number.POSITIVE_INFINITY);
      if (!total) continue;
      for (const p of ctx.reader.ratePoints(l.id, 'compartments_occupied', ctx.from, ctx.to)) {
        if (p.ts < ctx.from || p.ts >= ctx.to) continue;
        const share = p.v / total;
        if (max === null || share > max) max = share;
      }
    }
    return { value: max, ...cov };
  },
};
