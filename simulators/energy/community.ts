import type { MetricValues } from '../servers/modbus-image.js';
import { Battery } from '../models/battery.js';
import { seedOf } from '../models/energy-noise.js';
import { HeatPump } from '../models/heat-pump.js';
import { CommunityLoad } from '../models/load.js';
import { PvArray, Sun } from '../models/sun.js';
import { ThermalTank } from '../models/tank.js';
import { WaterDraw } from '../models/water-draw.js';
import { batteryCommands, heatPumpCommands } from './commands.js';
import type { EnergyDevice, EnergyScenario } from './schema.js';

/**
 * The community's energy system as one set of coupled models: PV inverters, the base load, heat
 * pumps charging buffer tanks, batteries doing self-consumption, the grid connection as the
 * balance, and water meters. Advanced in steps of at most `step` simulated ms; every register
 * value and every ground-truth total comes from the same integration.
 */

const HOUR = 3_600_000;
/** Mean buffer-tank temperature a heat pump on SG Ready "recommend" charges it up to, °C. */
export const TANK_BOOST_C = 52;
const MARKS_KEPT = 8 * 24;

/** Exact totals at one whole hour: the community's and each device's. */
interface HourMark {
  ts: number;
  community: Record<string, number>;
  devices: Record<string, Record<string, number>>;
}

interface Entry {
  values: () => MetricValues;
  truth: () => Record<string, number>;
  command?: (name: string, value: unknown) => boolean;
  state?: (name: string) => string | number | boolean | null | undefined;
}

export interface CommunityOptions {
  start: number;
  seed: number;
  latitude: number;
  longitude: number;
  timezone: string;
}

export class EnergyCommunity {
  private t: number;
  private readonly sun: Sun;
  private readonly load: CommunityLoad;
  private readonly pv: PvArray[] = [];
  private readonly batteries: Battery[] = [];
  private readonly pumps: HeatPump[] = [];
  private readonly tanks: ThermalTank[] = [];
  private readonly water: WaterDraw[] = [];
  private readonly households: CommunityLoad[] = [];
  private readonly entries = new Map<string, Entry>();
  private readonly hourly: HourMark[] = [];
  private gridW = 0;
  private importWh = 0;
  private exportWh = 0;
  private outdoorC = 10;

  constructor(
    private readonly s: EnergyScenario,
    private readonly o: CommunityOptions,
  ) {
    this.t = o.start;
    this.sun = new Sun({ latitude: o.latitude, longitude: o.longitude, seed: seedOf(o.seed, 'sun'), cloudiness: s.cloudiness });
    this.load = new CommunityLoad(s.load_kw * 1000, o.timezone, seedOf(o.seed, 'load'));
    const devices = [...s.endpoints.flatMap((e) => e.units.flatMap((u) => u.devices)), ...s.buses.flatMap((b) => b.meters.map((m) => m.device))];
    // Tanks first, so that each heat pump knows its tank.
    for (const d of devices.filter((x) => x.model === 'tank')) this.addTank(d);
    for (const d of devices.filter((x) => x.model !== 'tank')) this.add(d);
    this.step(0);
  }

  /** Metric values of a device, as its registers should show them now. */
  values(id: string): MetricValues {
    return this.entries.get(id)?.values() ?? {};
  }

  /** A command for a device's model (the Modbus image decoded it); false when the model ignores it. */
  command(id: string, name: string, value: unknown): boolean {
    return this.entries.get(id)?.command?.(name, value) ?? false;
  }

  /** The state a command set on a device's model, as its read-back register shows it. */
  commandState(id: string, name: string): string | number | boolean | null | undefined {
    return this.entries.get(id)?.state?.(name);
  }

  /** Exact totals per device since the start (Wh, m³). */
  groundTruth(ids?: readonly string[]): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [id, e] of this.entries) if (!ids || ids.includes(id)) out[id] = e.truth();
    return out;
  }

  /**
   * Exact totals at every whole hour the models have passed (UTC hours, which are local hours in
   * whole-hour zones such as Asia/Shanghai), so a KPI over a day can be checked against the truth
   * at the window's own edges. The last 8 days are kept.
   */
  marks(ids?: readonly string[]): HourMark[] {
    return this.hourly.map((m) => ({ ts: m.ts, community: m.community, devices: ids ? Object.fromEntries(Object.entries(m.devices).filter(([id]) => ids.includes(id))) : m.devices }));
  }

  /** Community-wide totals since the start (Wh). */
  totals(): Record<string, number> {
    return { load_wh: this.load.consumedWh, import_wh: this.importWh, export_wh: this.exportWh };
  }

  /** Bring every model up to simulated time `to`. */
  advance(to: number): void {
    // Bound the catch-up work: after a long pause, skip ahead rather than freeze.
    if (to - this.t > 7 * 86_400_000) this.t = to - 7 * 86_400_000;
    while (this.t < to) {
      // Steps end exactly on each whole hour, where the truth is recorded.
      const hour = (Math.floor(this.t / HOUR) + 1) * HOUR;
      const dt = Math.min(this.s.step, to - this.t, hour - this.t);
      this.step(dt);
      this.t += dt;
      if (this.t === hour) {
        this.hourly.push({ ts: hour, community: this.totals(), devices: this.groundTruth() });
        if (this.hourly.length > MARKS_KEPT) this.hourly.shift();
      }
    }
  }

  private step(dt: number): void {
    const ts = this.t;
    this.outdoorC = this.sun.outdoorTemp(ts);
    this.load.step(ts, dt);
    let pvW = 0;
    for (const p of this.pv) {
      p.step(ts, dt);
      pvW += p.ac;
    }
    let hpW = 0;
    const n = this.tanks.length;
    // Heat into each tank from the pumps paired with it (pump i charges tank i mod n), summed in pump order.
    const heat = new Array<number>(n).fill(0);
    this.pumps.forEach((hp, i) => {
      const tank = n ? this.tanks[i % n] : undefined;
      // SG Ready is what the gateway (or nobody: "normal") set; "recommend" also charges the
      // buffer tank up to its boost temperature.
      const boost = hp.sgReady === 'recommend' && tank !== undefined && tank.meanC < TANK_BOOST_C;
      hp.step(ts, dt, { outdoorC: this.outdoorC, returnC: tank ? tank.bottomC : 35, heatingCall: boost || (tank ? tank.heatingCall : this.outdoorC < 15) });
      hpW += hp.electricW;
      if (n) heat[i % n] = (heat[i % n] ?? 0) + hp.toBufferW;
    });
    this.tanks.forEach((tank, i) => tank.step(dt, heat[i] ?? 0, this.outdoorC));
    // Self-consumption: the batteries take the surplus and cover the deficit, shared equally.
    const surplus = pvW - this.load.power - hpW;
    let batW = 0;
    for (const b of this.batteries) batW += b.step(b.remote ? b.setpointW : surplus / this.batteries.length, dt);
    this.gridW = this.load.power + hpW + batW - pvW;
    const h = dt / 3_600_000;
    if (this.gridW > 0) this.importWh += this.gridW * h;
    else this.exportWh += -this.gridW * h;
    // Water meters draw their own seeded noise: adding one never changes the energy balance.
    for (const w of this.water) w.step(ts, dt);
    // Households' sub-meters likewise: their own curves, outside the community balance.
    for (const hh of this.households) hh.step(ts, dt);
  }

  private counter(d: EnergyDevice, exact: number, base: number): number {
    const v = (d.counter_offset ?? base) + exact;
    return d.counter_modulo ? v % d.counter_modulo : v;
  }

  private addTank(d: EnergyDevice): void {
    const tank = new ThermalTank({ volumeM3: d.volume_m3, startC: 41 });
    this.tanks.push(tank);
    this.entries.set(d.id, {
      values: () => ({ top_temp: round(tank.topC, 1), bottom_temp: round(tank.bottomC, 1) }),
      truth: () => ({ heat_in_wh: tank.heatInWh, heat_out_wh: tank.heatOutWh, loss_wh: tank.lossWh, mean_c: tank.meanC }),
    });
  }

  private add(d: EnergyDevice): void {
    const seed = seedOf(this.o.seed, d.id);
    const base = 1_000_000 + (seed % 9_000_000);
    if (d.model === 'pv') {
      const p = new PvArray(d.kwp, this.sun);
      this.pv.push(p);
      this.entries.set(d.id, {
        values: () => ({ ac_power: Math.round(p.ac), dc_power: Math.round(p.dc), energy_total: Math.round(this.counter(d, p.producedWh, base)), state: p.state }),
        truth: () => ({ produced_wh: p.producedWh }),
      });
    } else if (d.model === 'grid') {
      this.entries.set(d.id, {
        // Catalog convention here; a meter mounted backwards (`invert`) gets its registers
        // encoded the other way round by the image, through the profile's on_invert.
        values: () => ({
          power: Math.round(this.gridW),
          import_total: Math.round(this.counter(d, this.importWh, base)),
          export_total: Math.round(this.counter(d, this.exportWh, base / 2)),
        }),
        truth: () => ({ imported_wh: this.importWh, exported_wh: this.exportWh }),
      });
    } else if (d.model === 'battery') {
      const b = new Battery({ capacityWh: d.capacity_kwh * 1000, maxChargeW: d.power_kw * 1000, maxDischargeW: d.power_kw * 1000, soc: 0.5 });
      this.batteries.push(b);
      this.entries.set(d.id, {
        values: () => ({
          power: Math.round(b.power),
          soc: round(b.soc, 1),
          soh: b.soh,
          capacity: d.capacity_kwh * 1000,
          state: b.state,
          charged_total: Math.round(this.counter(d, b.chargedWh, base)),
          discharged_total: Math.round(this.counter(d, b.dischargedWh, base)),
        }),
        truth: () => ({ charged_wh: b.chargedWh, discharged_wh: b.dischargedWh, soc: b.soc }),
        ...batteryCommands(b, d.ignore_commands),
      });
    } else if (d.model === 'heat_pump') {
      const hp = new HeatPump({ ratedThermalW: d.rated_kw * 1000, defrostPhase: (seed % 100) / 100 });
      this.pumps.push(hp);
      this.entries.set(d.id, {
        values: () => ({
          electric_power: Math.round(hp.electricW),
          thermal_power: Math.round(hp.thermalW),
          electric_total: Math.round(this.counter(d, hp.electricWh, base)),
          thermal_total: Math.round(this.counter(d, hp.thermalWh, base * 3)),
          supply_temp: round(hp.supplyC, 2),
          return_temp: round(hp.returnC, 2),
          outdoor_temp: round(this.outdoorC, 1),
          dhw_temp: round(hp.dhwC, 1),
          mode: hp.mode,
          sg_ready: hp.sgReady,
        }),
        truth: () => ({ heat_delivered_wh: hp.thermalWh, electricity_used_wh: hp.electricWh, sg_ready_changes: hp.sgChanges }),
        ...heatPumpCommands(hp, d.ignore_commands),
      });
    } else if (d.model === 'water') {
      const w = new WaterDraw(d.kind, d.m3_per_day, this.o.timezone, seed);
      this.water.push(w);
      this.entries.set(d.id, {
        values: () => ({ volume_total: this.counter(d, w.drawnM3, (seed % 5000) + 100), reverse_total: 0, flow: w.flowM3h, dry: false, low_battery: false }),
        truth: () => ({ drawn_m3: w.drawnM3 }),
      });
    } else if (d.model === 'household') {
      const hh = new CommunityLoad(d.mean_kw * 1000, this.o.timezone, seed);
      this.households.push(hh);
      this.entries.set(d.id, {
        values: () => ({ power: Math.round(hh.power), import_total: this.counter(d, hh.consumedWh, base / 100), export_total: 0 }),
        truth: () => ({ imported_wh: hh.consumedWh, exported_wh: 0 }),
      });
    }
  }
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
