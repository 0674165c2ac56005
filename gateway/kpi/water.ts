import { combine, energy, ofClass, ratio, term, totalling, type KpiContext, type KpiValue, type Term } from './context.js';
import { localParts, zonedToUtc } from './windows.js';

/** Water KPIs of the low-carbon scene: volumes by water_type tag, losses, night flow. */

const DAY = 86_400_000;
const HOUR = 3_600_000;

function volume(ctx: KpiContext, type: string, devices = totalling(ctx, 'water_meter')): Term {
  return term(devices.filter((d) => d.tags['water_type'] === type).map((d) => energy(ctx, d.id, 'volume_total', 'flow', 'pos')));
}

export const water: Record<string, (ctx: KpiContext) => KpiValue> = {
  /** Potable litres per resident per day (days = the part of the window elapsed). */
  water_per_capita: (ctx) => {
    const potable = volume(ctx, 'potable');
    const days = (Math.min(ctx.to, ctx.now) - ctx.from) / DAY;
    const residents = 'site' in ctx.scope ? ctx.settings.residents : undefined;
    const value = potable.n && residents && days > 0 ? (potable.value * 1000) / residents / days : null;
    return { value, ...combine([potable]), ...(residents ? { detail: { residents } } : {}) };
  },
  /**
   * (reclaimed + rainwater) / all water. "All" is potable + reclaimed + rainwater: hot water is
   * potable water heated on site, already counted by the potable meters.
   */
  non_traditional_water_ratio: (ctx) => {
    const [p, r, w] = [volume(ctx, 'potable'), volume(ctx, 'reclaimed'), volume(ctx, 'rainwater')];
    const all = p.value + r.value + w.value;
    const value = p.n + r.n + w.n > 0 ? ratio(r.value + w.value, all) : null;
    return { value, ...combine([p, r, w]) };
  },
  /** (master − Σ sub-meters) / master, meters by role tag. */
  water_loss_ratio: (ctx) => {
    const meters = ofClass(ctx, 'water_meter');
    const vol = (role: string) => term(meters.filter((d) => d.tags['role'] === role).map((d) => energy(ctx, d.id, 'volume_total', 'flow', 'pos')));
    const master = vol('master');
    const subs = vol('sub');
    const value = master.n && subs.n ? ratio(master.value - subs.value, master.value) : null;
    return { value, ...combine([master, subs]) };
  },
  night_flow_leak: (ctx) => nightFlowLeak(ctx),
};

/** 02:00–04:00 local of each night whose end falls in the window, at least the N most recent. */
export function nights(ctx: Pick<KpiContext, 'from' | 'to' | 'now' | 'settings'>): [number, number][] {
  const { tz, nightFlowNights } = ctx.settings;
  const end = Math.min(ctx.to, ctx.now);
  const p = localParts(end, tz);
  const out: [number, number][] = [];
  for (let i = 0; i < 400; i++) {
    const s = zonedToUtc(p.year, p.month, p.day - i, 2, 0, tz);
    const e = zonedToUtc(p.year, p.month, p.day - i, 4, 0, tz);
    if (e > end) continue;
    if (e <= ctx.from && out.length >= nightFlowNights) break;
    out.push([s, e]);
  }
  return out.reverse();
}

/**
 * Meters whose minimum flow stayed above the threshold between 02:00 and 04:00 on N nights in a
 * row: a leak, since nobody draws water all night. Flow is the flow gauge's minimum, or for a
 * meter with only a volume counter the lower of the two hourly mean flows (smart water meters
 * report hourly at best). Hourly rollups answer most nights; the rest are read raw.
 */
function nightFlowLeak(ctx: KpiContext): KpiValue {
  const { nightFlowThreshold: threshold, nightFlowNights: n } = ctx.settings;
  const flagged: string[] = [];
  const series: string[] = [];
  let cov = 0;
  let meters = 0;
  const list = nights(ctx);
  for (const d of ofClass(ctx, 'water_meter')) {
    const metric = ctx.reader.has(d.id, 'flow') ? 'flow' : ctx.reader.has(d.id, 'volume_total') ? 'volume_total' : undefined;
    if (!metric || list.length === 0) continue;
    const mins = nightMins(ctx, d.id, metric, list);
    let run = 0;
    let best = 0;
    let covered = 0;
    list.forEach(([s, e], i) => {
      const m = mins[i];
      covered += m ? m.covered / (e - s) : 0;
      run = m && m.value > threshold ? run + 1 : 0;
      best = Math.max(best, run);
    });
    meters++;
    cov += covered / list.length;
    series.push(`${d.id}/${metric}`);
    if (best >= n) flagged.push(d.id);
  }
  return { value: meters ? flagged.length : null, coverage: meters ? cov / meters : 0, series, detail: { meters: flagged, nights: list.length } };
}

type NightMin = { value: number; covered: number } | undefined;

function nightMins(ctx: KpiContext, device: string, metric: 'flow' | 'volume_total', list: [number, number][]): NightMin[] {
  const starts = list.flatMap(([s, e]) => Array.from({ length: Math.round((e - s) / HOUR) + 1 }, (_, i) => s - HOUR + i * HOUR));
  const buckets = ctx.reader.hoursAt(device, metric, starts);
  const byStart = new Map((buckets ?? []).map((b) => [b.start, b]));
  return list.map(([s, e]) => {
    let min = Number.POSITIVE_INFINITY;
    let hours = 0;
    for (let h = s; h < e; h += HOUR) {
      const b = byStart.get(h);
      const prev = byStart.get(h - HOUR);
      if (!b) break;
      if (metric === 'flow') min = Math.min(min, b.min);
      else {
        // Volume between the last samples of two clean hours, per hour.
        if (!prev || b.last < prev.last || b.max > b.last || b.lastTs <= prev.lastTs) break;
        min = Math.min(min, ((b.last - prev.last) * HOUR) / (b.lastTs - prev.lastTs));
      }
      hours++;
    }
    if (hours * HOUR === e - s) return { value: min, covered: e - s };
    return rawNightMin(ctx, device, metric, s, e);
  });
}

function rawNightMin(ctx: KpiContext, device: string, metric: 'flow' | 'volume_total', s: number, e: number): NightMin {
  const r = ctx.reader;
  if (metric === 'flow') {
    const pts = r.ratePoints(device, 'flow', s, e).filter((p) => p.ts >= s && p.ts < e);
    const cov = r.coverage(device, 'flow', s, e);
    if (pts.length === 0 || !cov) return { value: 0, covered: 0 };
    return { value: Math.min(...pts.map((p) => p.v)), covered: cov.coveredMs };
  }
  const blocks = r.blocks(device, 'volume_total', 'flow', 'pos', s, e, HOUR) ?? [];
  const full = blocks.filter((b) => b.coveredMs >= HOUR * 0.9);
  if (full.length === 0) return { value: 0, covered: 0 };
  return { value: Math.min(...full.map((b) => (b.value * HOUR) / (b.end - b.start))), covered: full.reduce((a, b) => a + b.coveredMs, 0) };
}
