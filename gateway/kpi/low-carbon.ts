import { combine, energy, ofClass, ratio, term, totalling, type KpiContext, type KpiValue, type Term } from './context.js';
import { FIFTEEN_MIN } from './windows.js';

/** Low-carbon scene: energy balance, storage, heat pumps, demand and carbon (spec/kpis.md). */

export interface Balance {
  pv: Term;
  imp: Term;
  exp: Term;
  ch: Term;
  dis: Term;
}

export function balance(ctx: KpiContext): Balance {
  const sum = (cls: string, counter: string, rate: string, part: 'pos' | 'neg', devices = totalling(ctx, cls)) =>
    term(devices.map((d) => energy(ctx, d.id, counter, rate, part)));
  return {
    pv: sum('pv_inverter', 'energy_total', 'ac_power', 'pos'),
    imp: sum('grid_meter', 'import_total', 'power', 'pos'),
    exp: sum('grid_meter', 'export_total', 'power', 'neg'),
    ch: sum('battery', 'charged_total', 'power', 'pos'),
    dis: sum('battery', 'discharged_total', 'power', 'neg'),
  };
}

const single = (t: Term): KpiValue => ({ value: t.n ? t.value : null, coverage: t.coverage, series: t.series });

function load(b: Balance): KpiValue {
  const terms = [b.pv, b.imp, b.exp, b.ch, b.dis];
  if (b.pv.n === 0 && b.imp.n === 0) return { value: null, ...combine(terms) };
  return { value: b.pv.value + b.imp.value - b.exp.value + b.dis.value - b.ch.value, ...combine(terms) };
}

const kWh = (wh: number) => wh / 1000;

export const lowCarbon: Record<string, (ctx: KpiContext, b: () => Balance) => KpiValue> = {
  pv_generation: (_c, b) => single(b().pv),
  grid_import: (_c, b) => single(b().imp),
  grid_export: (_c, b) => single(b().exp),
  battery_charge: (_c, b) => single(b().ch),
  battery_discharge: (_c, b) => single(b().dis),
  community_load: (_c, b) => load(b()),
  self_consumption: (_c, b) => {
    const { pv, exp } = b();
    return { value: pv.n ? ratio(pv.value - exp.value, pv.value) : null, ...combine([pv, exp]) };
  },
  self_sufficiency: (_c, b) => {
    const l = load(b());
    return { ...l, value: l.value === null ? null : ratio(l.value - b().imp.value, l.value) };
  },
  battery_round_trip_efficiency: (ctx) => batteryEfficiency(ctx),
  battery_equivalent_cycles: (ctx, b) => {
    const cap = capacities(ctx);
    const dis = b().dis;
    return { value: cap.total > 0 && dis.n ? dis.value / cap.total : null, ...combine([dis, cap.term]) };
  },
  heat_pump_spf: (ctx) => {
    const pumps = ofClass(ctx, 'heat_pump');
    const th = term(pumps.map((d) => energy(ctx, d.id, 'thermal_total', 'thermal_power', 'pos')));
    const el = term(pumps.map((d) => energy(ctx, d.id, 'electric_total', 'electric_power', 'pos')));
    return { value: th.n && el.n ? ratio(th.value, el.value) : null, ...combine([th, el]) };
  },
  peak_demand: (ctx) => peakDemand(ctx),
  carbon_emissions: (ctx, b) => {
    const imp = b().imp;
    return { value: imp.n ? kWh(imp.value) * ctx.settings.emissionFactor : null, ...combine([imp]) };
  },
  carbon_avoided: (ctx, b) => {
    const pv = b().pv;
    return { value: pv.n ? kWh(pv.value) * ctx.settings.emissionFactor : null, ...combine([pv]) };
  },
  carbon_intensity: (ctx, b) => {
    const l = load(b());
    const imp = b().imp;
    const value = l.value === null || !imp.n ? null : ratio(kWh(imp.value) * ctx.settings.emissionFactor, kWh(l.value));
    return { ...l, value };
  },
};

/** Rated capacity per battery (newest value, however old: it is a rating, not a reading). */
function capacities(ctx: KpiContext): { total: number; term: Term; byDevice: Map<string, number> } {
  const byDevice = new Map<string, number>();
  const series: string[] = [];
  const batteries = ofClass(ctx, 'battery');
  for (const d of batteries) {
    const tag = Number(d.tags['capacity_wh']);
    const v = ctx.reader.valueAt(d.id, 'capacity', Math.min(ctx.to, ctx.now), Number.POSITIVE_INFINITY) ?? (Number.isFinite(tag) && tag > 0 ? tag : undefined);
    if (v !== undefined && v > 0) {
      byDevice.set(d.id, v);
      series.push(`${d.id}/capacity`);
    }
  }
  const total = [...byDevice.values()].reduce((a, v) => a + v, 0);
  return { total, byDevice, term: { value: total, coverage: batteries.length ? byDevice.size / batteries.length : 0, series, n: batteries.length } };
}

/** (E_dis + ΔSoC·capacity) / E_ch: storage that ends fuller than it started gets credit for it. */
function batteryEfficiency(ctx: KpiContext): KpiValue {
  const batteries = ofClass(ctx, 'battery');
  const cap = capacities(ctx);
  const ch = term(batteries.map((d) => energy(ctx, d.id, 'charged_total', 'power', 'pos')));
  const dis = term(batteries.map((d) => energy(ctx, d.id, 'discharged_total', 'power', 'neg')));
  const end = Math.min(ctx.to, ctx.now);
  let stored = 0;
  let known = 0;
  const series: string[] = [];
  for (const d of batteries) {
    const s0 = ctx.reader.valueAt(d.id, 'soc', ctx.from);
    const s1 = ctx.reader.valueAt(d.id, 'soc', end);
    const c = cap.byDevice.get(d.id);
    if (s0 === undefined || s1 === undefined || c === undefined) continue;
    stored += ((s1 - s0) / 100) * c;
    known++;
    series.push(`${d.id}/soc`);
  }
  const soc: Term = { value: stored, coverage: batteries.length ? known / batteries.length : 0, series, n: batteries.length };
  const value = ch.n && dis.n ? ratio(dis.value + stored, ch.value) : null;
  return { value, ...combine([ch, dis, soc, cap.term]) };
}

/**
 * Highest 15-minute mean import power of the window (W), from the import counter per aligned
 * quarter hour (or the positive part of power where there is no counter), summed over the
 * point-of-connection meters. Only finished quarter hours count; the rolling `15m` window is
 * one quarter hour ending now.
 */
function peakDemand(ctx: KpiContext): KpiValue {
  const meters = totalling(ctx, 'grid_meter');
  const end = ctx.kind === '15m' ? ctx.to : Math.min(ctx.to, Math.floor((ctx.now - ctx.from) / FIFTEEN_MIN) * FIFTEEN_MIN + ctx.from);
  const sums = new Map<number, { wh: number; covered: number }>();
  const measures = meters.map((d) => energy(ctx, d.id, 'import_total', 'power', 'pos'));
  for (const d of meters) {
    for (const b of ctx.reader.blocks(d.id, 'import_total', 'power', 'pos', ctx.from, end, FIFTEEN_MIN) ?? []) {
      const s = sums.get(b.start) ?? { wh: 0, covered: 0 };
      s.wh += b.value;
      s.covered += b.coveredMs;
      sums.set(b.start, s);
    }
  }
  let peak: number | null = null;
  for (const [start, s] of sums) {
    if (s.covered <= 0) continue;
    const hours = (Math.min(start + FIFTEEN_MIN, end) - start) / 3_600_000;
    const w = s.wh / hours;
    if (peak === null || w > peak) peak = w;
  }
  const t = term(measures);
  const detail: Record<string, number> = {};
  if (ctx.settings.contractDemand !== undefined) detail['contract_demand'] = ctx.settings.contractDemand;
  return { value: t.n ? peak : null, coverage: t.coverage, series: t.series, detail };
}
