import { combine, energy, ofClass, ratio, term, totalling, type KpiContext, type KpiValue, type Term } from './context.js';
import { localParts, zonedToUtc } from './windows.js';

/** Water KPIs of the low-carbon scene: volumes by water_type tag, losses, night flow. */

const DAY = 86_400_000;
const NIGHT_BLOCK = 15 * 60_000;

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
    return { value, ...combine([potable]), detail: residents ? { residents } : {} };
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
 * row: a leak, since nobody draws water all night. Flow from the flow gauge, or from the
 * volume counter per quarter hour where a meter has no flow reading.
 */
function nightFlowLeak(ctx: KpiContext): KpiValue {
  const { nightFlowThreshold: threshold, nightFlowNights: n } = ctx.settings;
  const flagged: string[] = [];
  const series: string[] = [];
  let cov = 0;
  let meters = 0;
  const list = nights(ctx);
  for (const d of ofClass(ctx, 'water_meter')) {
    let run = 0;
    let best = 0;
    let covered = 0;
    let used = false;
    for (const [s, e] of list) {
      const min = nightMinFlow(ctx, d.id, s, e);
      if (!min) continue;
      used = true;
      covered += min.covered / (e - s);
      run = min.value > threshold ? run + 1 : 0;
      best = Math.max(best, run);
    }
    if (!used) continue;
    meters++;
    cov += list.length ? covered / list.length : 0;
    series.push(`${d.id}/${ctx.reader.has(d.id, 'flow') ? 'flow' : 'volume_total'}`);
    if (best >= n) flagged.push(d.id);
  }
  return { value: meters ? flagged.length : null, coverage: meters ? cov / meters : 0, series, detail: { meters: flagged, nights: list.length } };
}

function nightMinFlow(ctx: KpiContext, device: string, s: number, e: number): { value: number; covered: number } | undefined {
  const r = ctx.reader;
  if (r.has(device, 'flow')) {
    const pts = r.ratePoints(device, 'flow', s, e).filter((p) => p.ts >= s && p.ts < e);
    const cov = r.coverage(device, 'flow', s, e);
    if (pts.length === 0 || !cov) return { value: 0, covered: 0 };
    return { value: Math.min(...pts.map((p) => p.v)), covered: cov.coveredMs };
  }
  const blocks = r.blocks(device, 'volume_total', 'flow', 'pos', s, e, NIGHT_BLOCK);
  if (!blocks) return undefined;
  const full = blocks.filter((b) => b.coveredMs >= NIGHT_BLOCK * 0.9);
  if (full.length === 0) return { value: 0, covered: 0 };
  // m³ per quarter hour → m³/h
  return { value: Math.min(...full.map((b) => (b.value * 3_600_000) / (b.end - b.start))), covered: full.reduce((a, b) => a + b.coveredMs, 0) };
}
