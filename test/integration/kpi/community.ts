import type { Reading } from '../../../gateway/model/types.js';
import { counterReadings, DAY, Fixture, gaugeReadings, HOUR, integrate, localHour, MIN, solar, type DeviceSpec } from './fixtures.js';

/**
 * A synthetic low-carbon community with exactly known energy and water flows, written through
 * the real pipeline into a real store: ground truth for the energy KPIs.
 */

export const DEVICES: DeviceSpec[] = [
  { id: 'pv-1', class: 'pv_inverter' },
  { id: 'pv-2', class: 'pv_inverter' },
  { id: 'grid-main', class: 'grid_meter', tags: { role: 'master' } },
  { id: 'grid-sub-a', class: 'grid_meter', tags: { role: 'sub', building: 'a' } },
  { id: 'bess-1', class: 'battery' },
  { id: 'hp-1', class: 'heat_pump' },
  { id: 'hp-2', class: 'heat_pump' },
  { id: 'wm-main', class: 'water_meter', tags: { water_type: 'potable', role: 'master' } },
  { id: 'wm-a', class: 'water_meter', tags: { water_type: 'potable', role: 'sub', building: 'a' } },
  { id: 'wm-b', class: 'water_meter', tags: { water_type: 'potable', role: 'sub', building: 'b' } },
  { id: 'wm-rec', class: 'water_meter', tags: { water_type: 'reclaimed' } },
  { id: 'wm-rain', class: 'water_meter', tags: { water_type: 'rainwater' } },
];

const rect = (startH: number, endH: number, w: number) => (t: number) => {
  const h = localHour(t);
  return h >= startH && h < endH ? w : 0;
};

export const flows = {
  pv1: solar(40),
  /** pv-2 has no counter: only ac_power, integrated by trapezoid. */
  pv2: solar(20),
  load: (t: number) => 30_000 + 15_000 * Math.exp(-(((localHour(t) - 19) / 2) ** 2)),
  ch: rect(10, 14, 10_000),
  dis: rect(18, 22, 9_000),
  net: (t: number) => flows.load(t) + flows.ch(t) - flows.pv1(t) - flows.pv2(t) - flows.dis(t),
  imp: (t: number) => Math.max(0, flows.net(t)),
  exp: (t: number) => Math.max(0, -flows.net(t)),
  subA: (t: number) => 0.4 * flows.load(t),
  hpEl: (t: number) => 4_000 + 2_000 * Math.sin((Math.PI * localHour(t)) / 12),
  hpTh: (t: number) => 3.2 * flows.hpEl(t),
  hp2El: (_t: number) => 3_000,
  hp2Th: (_t: number) => 3.6 * 3_000,
  /** Water in m³/h: the master sees 5 % more than its sub-meters (losses). */
  wA: (t: number) => 1.2 + 0.8 * Math.sin((Math.PI * localHour(t)) / 24),
  wB: (_t: number) => 0.9,
  wMain: (t: number) => (flows.wA(t) + flows.wB(t)) / 0.95,
  wRec: (_t: number) => 0.25,
  wRain: (t: number) => (localHour(t) < 6 ? 0.1 : 0),
};

export const CAPACITY = 200_000;
const SOC0 = 40;

/** SoC (%) from the charge and discharge schedule, with 95 % one-way efficiency (cheap for increasing t). */
export function soc(from: number) {
  let at = from;
  let stored = 0;
  return (t: number) => {
    if (t < at) {
      at = from;
      stored = 0;
    }
    stored += 0.95 * integrate(flows.ch, at, t, 10_000) - integrate(flows.dis, at, t, 10_000) / 0.95;
    at = t;
    return SOC0 + (stored / CAPACITY) * 100;
  };
}

export interface CommunityOptions {
  everyMs?: number;
  jitterMs?: number;
  /** Drop samples of one device (offline). */
  skip?: { device: string; when: (t: number) => boolean };
}

/** Readings for [from, to); counters start mid-life (as real meters do). */
export function communityReadings(from: number, to: number, o: CommunityOptions = {}): Reading[] {
  const every = o.everyMs ?? MIN;
  const c = (device: string, metric: string, f: (t: number) => number, seed: number, start: number, resolution = 10) =>
    counterReadings(device, metric, f, from, to, {
      everyMs: every,
      jitterMs: o.jitterMs ?? 5000,
      seed,
      start,
      resolution,
      ...(o.skip?.device === device ? { skip: o.skip.when } : {}),
    });
  const g = (device: string, metric: string, f: (t: number) => number) =>
    gaugeReadings(device, metric, f, from, to, every, o.skip?.device === device ? o.skip.when : undefined);
  const m3 = (f: (t: number) => number) => f; // flows are already m³/h: integrate gives m³
  return [
    ...c('pv-1', 'energy_total', flows.pv1, 1, 81_234_560),
    ...g('pv-2', 'ac_power', flows.pv2),
    ...c('grid-main', 'import_total', flows.imp, 2, 912_345_670),
    ...c('grid-main', 'export_total', flows.exp, 3, 45_678_900),
    ...c('grid-sub-a', 'import_total', flows.subA, 4, 10_000_000),
    ...c('bess-1', 'charged_total', flows.ch, 5, 5_000_000),
    ...c('bess-1', 'discharged_total', flows.dis, 6, 4_500_000),
    ...g('bess-1', 'soc', soc(from)),
    ...gaugeReadings('bess-1', 'capacity', () => CAPACITY, from, to, HOUR),
    ...c('hp-1', 'electric_total', flows.hpEl, 7, 3_000_000),
    ...c('hp-1', 'thermal_total', flows.hpTh, 8, 9_600_000),
    ...c('hp-2', 'electric_total', flows.hp2El, 9, 1_000_000),
    ...c('hp-2', 'thermal_total', flows.hp2Th, 10, 3_600_000),
    ...c('wm-main', 'volume_total', m3(flows.wMain), 11, 52_345.678, 0.001),
    ...c('wm-a', 'volume_total', m3(flows.wA), 12, 20_000, 0.001),
    ...c('wm-b', 'volume_total', m3(flows.wB), 13, 18_000, 0.001),
    ...c('wm-rec', 'volume_total', m3(flows.wRec), 14, 3_000, 0.001),
    ...c('wm-rain', 'volume_total', m3(flows.wRain), 15, 800, 0.001),
  ];
}

export function community(from: number, to: number, o: CommunityOptions = {}): Fixture {
  const f = new Fixture(DEVICES);
  f.write(communityReadings(from, to, o));
  return f;
}

/** Ground truth of every energy KPI over [a, b) (site scope), from the flows themselves. */
export function truth(a: number, b: number, o: { ef?: number; residents?: number; stepMs?: number } = {}) {
  const ef = o.ef ?? 0.55;
  const residents = o.residents ?? 200;
  const I = (f: (t: number) => number) => integrate(f, a, b, o.stepMs ?? 1000);
  const pv = I(flows.pv1) + I(flows.pv2);
  const imp = I(flows.imp);
  const exp = I(flows.exp);
  const ch = I(flows.ch);
  const dis = I(flows.dis);
  const load = pv + imp - exp + dis - ch;
  const s = soc(a);
  const dSoc = ((s(b) - s(a)) / 100) * CAPACITY;
  const potable = I(flows.wMain);
  const days = (b - a) / DAY;
  return {
    pv_generation: pv,
    grid_import: imp,
    grid_export: exp,
    battery_charge: ch,
    battery_discharge: dis,
    community_load: load,
    self_consumption: (pv - exp) / pv,
    self_sufficiency: (load - imp) / load,
    battery_round_trip_efficiency: (dis + dSoc) / ch,
    battery_equivalent_cycles: dis / CAPACITY,
    heat_pump_spf: (I(flows.hpTh) + I(flows.hp2Th)) / (I(flows.hpEl) + I(flows.hp2El)),
    carbon_emissions: (imp / 1000) * ef,
    carbon_avoided: (pv / 1000) * ef,
    carbon_intensity: ((imp / 1000) * ef) / (load / 1000),
    water_per_capita: (potable * 1000) / residents / days,
    non_traditional_water_ratio: (I(flows.wRec) + I(flows.wRain)) / (potable + I(flows.wRec) + I(flows.wRain)),
    water_loss_ratio: (potable - I(flows.wA) - I(flows.wB)) / potable,
  } as Record<string, number>;
}
