import { seedOf } from '../models/energy-noise.js';
import { HeatPump, WATER_WH_PER_M3K, type HeatPumpMode } from '../models/heat-pump.js';
import { Sun } from '../models/sun.js';
import { ThermalTank } from '../models/tank.js';
import type { StationScenario } from './schema.js';

/**
 * The energy station's physics: heat pumps (the Modbus simulator's model) charging one stratified
 * tank (the same tank model) that feeds the heating network. Advanced on a fixed grid of `step`
 * simulated ms aligned to the epoch, so the state at any grid instant does not depend on when the
 * server happened to ask; at every whole hour the exact totals are kept as ground truth marks.
 */

export type PointType = 'Double' | 'UInt16';

/** One variable of a device as the server exposes it: browse name, catalog metric, native unit. */
export interface StationPoint {
  name: string;
  metric: string;
  unit?: string;
  type: PointType;
  value: number;
  /** A writable point: a client's write of `raw`; false when the device does not take it (the value stays). */
  write?: (raw: number) => boolean;
}

export interface StationDevice {
  id: string;
  folder: string;
  kind: 'heat_pump' | 'tank' | 'electricity_meter' | 'heat_meter';
  points(): StationPoint[];
}

export interface Totals {
  /** Per heat pump: heat delivered and electricity used, Wh. */
  pumps: Record<string, { thermal_wh: number; electric_wh: number }>;
  /** The station's electricity meter (pumps + auxiliaries) and heat meter (heat into the network), Wh. */
  electricity_wh: number;
  heat_wh: number;
}

/** Operating mode codes, as the open XYZZ Modbus map numbers them (the profile maps them back). */
export const MODE_CODE: Readonly<Record<HeatPumpMode, number>> = { standby: 0, heating: 1, dhw: 2, cooling: 3, defrost: 5 };
const SG_CODE = { lock: 1, normal: 2, recommend: 3, force_on: 4 } as const;
const SG_BY_CODE = new Map(Object.entries(SG_CODE).map(([k, v]) => [v as number, k as keyof typeof SG_CODE]));

interface Pump {
  id: string;
  folder: string;
  hp: HeatPump;
  /** The pump's SG Ready input is broken: it takes writes and keeps its state. */
  ignore: boolean;
  /** SG Ready changes a client made (ground truth for the dwell). */
  sgChanges: number;
}

const HOUR = 3_600_000;
const KEEP_MARKS = 8 * 24;

export class StationModel {
  t: number;
  outdoorC = 10;
  readonly pumps: Pump[];
  readonly tank: ThermalTank;
  private readonly sun: Sun;
  electricityWh = 0;
  electricityW = 0;
  heatWh = 0;
  /** Exact totals at each whole simulated hour (UTC epoch ms → totals), the last eight days. */
  readonly marks = new Map<number, Totals>();
  readonly devices: StationDevice[];
  private readonly base: Record<string, number> = {};

  constructor(
    private readonly s: StationScenario,
    o: { start: number; seed: number; latitude: number; longitude: number },
  ) {
    this.t = o.start;
    this.sun = new Sun({ latitude: o.latitude, longitude: o.longitude, seed: seedOf(o.seed, 'station-sun') });
    this.pumps = s.heat_pumps.map((p, i) => ({
      id: p.id,
      folder: p.folder,
      hp: new HeatPump({ ratedThermalW: p.rated_kw * 1000, defrostPhase: i / s.heat_pumps.length, dhwM3: 2 }),
      ignore: p.ignore_commands,
      sgChanges: 0,
    }));
    this.tank = new ThermalTank({ volumeM3: s.tank.volume_m3, startC: 44, buildingWPerK: s.building_w_per_k, lossWPerK: 20 });
    // Lifetime before the simulation, so counters look like a station that has run for years.
    for (const id of [...s.heat_pumps.map((p) => p.id), s.electricity_meter.id, s.heat_meter.id]) this.base[id] = 1e5 + (seedOf(o.seed, id) % 9e5);
    this.devices = [...this.pumps.map((p) => this.pumpDevice(p)), this.tankDevice(), this.electricityDevice(), this.heatDevice()];
    this.outdoorC = this.sun.outdoorTemp(this.t);
    if (this.t % HOUR === 0) this.mark();
  }

  totals(): Totals {
    const pumps: Totals['pumps'] = {};
    for (const p of this.pumps) pumps[p.id] = { thermal_wh: p.hp.thermalWh, electric_wh: p.hp.electricWh };
    return { pumps, electricity_wh: this.electricityWh, heat_wh: this.heatWh };
  }

  /**
   * Integrate whole grid steps up to `to`. `onRecord` runs after each step that ends on a multiple
   * of `record_every` (so a server can publish that exact state, as a PLC logs its scan at fixed
   * instants); returns whether time moved.
   */
  advance(to: number, onRecord?: () => void): boolean {
    const step = this.s.step;
    if (to - this.t > 8 * 86_400_000) this.t = Math.floor((to - 8 * 86_400_000) / step) * step;
    let moved = false;
    for (;;) {
      const next = (Math.floor(this.t / step) + 1) * step;
      if (next > to) return moved;
      this.step(next - this.t);
      this.t = next;
      moved = true;
      if (this.t % HOUR === 0) this.mark();
      if (this.t % this.s.record_every === 0) onRecord?.();
    }
  }

  private step(dt: number): void {
    const ts = this.t;
    this.outdoorC = this.sun.outdoorTemp(ts);
    let electricW = this.s.aux_kw * 1000;
    let heatW = 0;
    this.pumps.forEach(({ hp }, i) => {
      // Staged: the last unit is the peak unit, called only when the tank is well below its band.
      const call = this.tank.heatingCall && (i < this.pumps.length - 1 || this.pumps.length === 1 || this.tank.meanC < 42);
      hp.step(ts, dt, { outdoorC: this.outdoorC, returnC: this.tank.bottomC, heatingCall: call });
      electricW += hp.electricW;
      heatW += hp.toBufferW;
    });
    const outBefore = this.tank.heatOutWh;
    this.tank.step(dt, heatW, this.outdoorC);
    this.heatWh += this.tank.heatOutWh - outBefore;
    this.electricityW = electricW;
    this.electricityWh += (electricW * dt) / HOUR;
  }

  private mark(): void {
    this.marks.set(this.t, this.totals());
    if (this.marks.size > KEEP_MARKS) {
      const oldest = this.marks.keys().next().value;
      if (oldest !== undefined) this.marks.delete(oldest);
    }
  }

  /** A client wrote a pump's SG Ready input (1 lock … 4 force_on): the pump runs as told from the next step. */
  private writeSg(p: Pump, raw: number): boolean {
    const mode = SG_BY_CODE.get(raw);
    if (mode === undefined || p.ignore) return false;
    if (p.hp.sgReady !== mode) p.sgChanges++;
    p.hp.sgReady = mode;
    return true;
  }

  private pumpDevice(p: Pump): StationDevice {
    const base = this.base[p.id] ?? 0;
    return {
      id: p.id,
      folder: p.folder,
      kind: 'heat_pump',
      points: () => [
        { name: 'ElectricPower', metric: 'electric_power', unit: 'kW', type: 'Double', value: p.hp.electricW / 1000 },
        { name: 'ThermalPower', metric: 'thermal_power', unit: 'kW', type: 'Double', value: p.hp.thermalW / 1000 },
        { name: 'ElectricEnergy', metric: 'electric_total', unit: 'kWh', type: 'Double', value: base + p.hp.electricWh / 1000 },
        { name: 'ThermalEnergy', metric: 'thermal_total', unit: 'kWh', type: 'Double', value: 3 * base + p.hp.thermalWh / 1000 },
        { name: 'SupplyTemperature', metric: 'supply_temp', unit: '°C', type: 'Double', value: p.hp.supplyC },
        { name: 'ReturnTemperature', metric: 'return_temp', unit: '°C', type: 'Double', value: p.hp.returnC },
        { name: 'OutdoorTemperature', metric: 'outdoor_temp', unit: '°C', type: 'Double', value: this.outdoorC },
        { name: 'DhwTemperature', metric: 'dhw_temp', unit: '°C', type: 'Double', value: p.hp.dhwC },
        { name: 'OperatingMode', metric: 'mode', type: 'UInt16', value: MODE_CODE[p.hp.mode] },
        { name: 'SgReadyState', metric: 'sg_ready', type: 'UInt16', value: SG_CODE[p.hp.sgReady], write: (raw) => this.writeSg(p, raw) },
      ],
    };
  }

  private tankDevice(): StationDevice {
    const t = this.tank;
    const ref = this.s.tank.reference_c;
    return {
      id: this.s.tank.id,
      folder: this.s.tank.folder,
      kind: 'tank',
      points: () => [
        { name: 'TopTemperature', metric: 'top_temp', unit: '°C', type: 'Double', value: t.topC },
        { name: 'BottomTemperature', metric: 'bottom_temp', unit: '°C', type: 'Double', value: t.bottomC },
        { name: 'StoredEnergy', metric: 'stored_energy', unit: 'kWh', type: 'Double', value: t.storedWh(ref) / 1000 },
      ],
    };
  }

  private electricityDevice(): StationDevice {
    const m = this.s.electricity_meter;
    const base = this.base[m.id] ?? 0;
    return {
      id: m.id,
      folder: m.folder,
      kind: 'electricity_meter',
      points: () => [
        { name: 'ActivePower', metric: 'power', unit: 'kW', type: 'Double', value: this.electricityW / 1000 },
        { name: 'ImportEnergy', metric: 'import_total', unit: 'kWh', type: 'Double', value: base + this.electricityWh / 1000 },
        { name: 'ExportEnergy', metric: 'export_total', unit: 'kWh', type: 'Double', value: 0 },
      ],
    };
  }

  private heatDevice(): StationDevice {
    const m = this.s.heat_meter;
    const base = this.base[m.id] ?? 0;
    const flow = this.s.network_flow_m3h;
    return {
      id: m.id,
      folder: m.folder,
      kind: 'heat_meter',
      points: () => {
        const supply = this.tank.topC;
        const ret = supply - this.tank.demandW / (WATER_WH_PER_M3K * flow);
        return [
          { name: 'HeatPower', metric: 'thermal_power', unit: 'kW', type: 'Double', value: this.tank.demandW / 1000 },
          // Chinese heat meters count in GJ (1 GJ = 277.78 kWh); the gateway converts from the EngineeringUnits.
          { name: 'HeatEnergy', metric: 'thermal_total', unit: 'GJ', type: 'Double', value: (base * 3.6e6 + this.heatWh * 3600) / 1e9 },
          { name: 'SupplyTemperature', metric: 'supply_temp', unit: '°C', type: 'Double', value: supply },
          { name: 'ReturnTemperature', metric: 'return_temp', unit: '°C', type: 'Double', value: ret },
          { name: 'Flow', metric: 'flow', unit: 'm³/h', type: 'Double', value: flow },
        ];
      },
    };
  }
}
