/**
 * An air-to-water heat pump (exported for the Modbus energy simulator and, later, the OPC UA
 * energy station). Thermal power follows the outdoor temperature, supply = return + heat /
 * (1.163 kWh/(m³·K) × flow), COP ≈ 0.5 × Carnot (spec/protocols.md); below 3 °C it defrosts
 * a few minutes an hour; domestic hot water is reheated when it cools below 45 °C.
 * Exact ground truth: heat delivered and electricity used.
 */

export type HeatPumpMode = 'standby' | 'heating' | 'dhw' | 'cooling' | 'defrost';
export type SgReady = 'lock' | 'normal' | 'recommend' | 'force_on';

export interface HeatPumpOptions {
  /** Heating capacity at 7 °C outdoor, W. */
  ratedThermalW: number;
  /** Water flow through the condenser, m³/h (default: a 5 K spread at rated power). */
  flowM3h?: number;
  /** Carnot efficiency share (0.45–0.55 for air-to-water). */
  carnotShare?: number;
  /** Phase of the defrost cycle within the hour, 0–1 (so units do not defrost together). */
  defrostPhase?: number;
  dhwC?: number;
  /** Volume of the DHW cylinder, m³. */
  dhwM3?: number;
}

/** Water: 1.163 Wh per litre and kelvin = 1163 Wh/(m³·K). */
export const WATER_WH_PER_M3K = 1163;

export class HeatPump {
  mode: HeatPumpMode = 'standby';
  sgReady: SgReady = 'normal';
  /** How often the SG Ready state changed (ground truth for the dwell check). */
  sgChanges = 0;
  thermalW = 0;
  electricW = 0;
  supplyC = 30;
  returnC = 30;
  cop = 0;
  thermalWh = 0;
  electricWh = 0;
  /** Heat that went to the buffer tank in the last step, W (DHW heat stays in the cylinder). */
  toBufferW = 0;
  dhwC: number;
  readonly flowM3h: number;

  constructor(readonly o: HeatPumpOptions) {
    this.flowM3h = o.flowM3h ?? o.ratedThermalW / (WATER_WH_PER_M3K * 5);
    this.dhwC = o.dhwC ?? 50;
  }

  /**
   * Advance `dtMs`. `heatingCall`: the buffer tank asks for heat; `returnC`: water coming back
   * (the tank bottom). The SG Ready state can lock the unit or force it on.
   */
  step(ts: number, dtMs: number, env: { outdoorC: number; returnC: number; heatingCall: boolean }): void {
    const h = dtMs / 3_600_000;
    const dhwLossPerH = 0.6;
    this.dhwC -= dhwLossPerH * h;
    // SG Ready 3 ("recommend", the grid or the PV has energy to spare): the unit raises its own
    // hot-water targets by 5 K and so stores the surplus as heat; 4 also forces it on.
    const boost = this.sgReady === 'recommend' || this.sgReady === 'force_on' ? 5 : 0;
    const wantDhw = this.mode === 'dhw' ? this.dhwC < 55 + boost : this.dhwC < 45 + boost;
    const minute = ((ts / 60_000 + 60 * (this.o.defrostPhase ?? 0)) % 60 + 60) % 60;
    const defrosting = env.outdoorC < 3 && minute < 5;
    const on = this.sgReady !== 'lock' && (env.heatingCall || wantDhw || this.sgReady === 'force_on');
    this.returnC = env.returnC;
    if (!on) {
      this.mode = 'standby';
      this.thermalW = 0;
      this.electricW = 15;
      this.cop = 0;
      this.supplyC = env.returnC;
    } else if (defrosting) {
      // Reverse cycle: heat is taken from the water to melt the ice; counted as no delivery.
      this.mode = 'defrost';
      this.thermalW = 0;
      this.electricW = 0.2 * this.o.ratedThermalW / 3;
      this.cop = 0;
      this.supplyC = env.returnC - 2;
    } else {
      this.mode = wantDhw && !(env.heatingCall && this.sgReady === 'force_on') ? 'dhw' : 'heating';
      const capacity = this.o.ratedThermalW * Math.max(0.6, Math.min(1.2, 1 + 0.015 * (env.outdoorC - 7)));
      this.thermalW = capacity;
      const back = this.mode === 'dhw' ? Math.min(env.returnC, this.dhwC - 3) : env.returnC;
      this.returnC = back;
      this.supplyC = back + capacity / (WATER_WH_PER_M3K * this.flowM3h);
      const tSupplyK = this.supplyC + 5 + 273.15;
      const carnot = tSupplyK / Math.max(5, this.supplyC + 5 - env.outdoorC);
      this.cop = Math.max(1.2, (this.o.carnotShare ?? 0.5) * carnot);
      this.electricW = capacity / this.cop;
    }
    this.thermalWh += this.thermalW * h;
    this.electricWh += this.electricW * h;
    if (this.mode === 'dhw') {
      this.dhwC += (this.thermalW * h) / (WATER_WH_PER_M3K * (this.o.dhwM3 ?? 0.3));
      this.toBufferW = 0;
    } else this.toBufferW = this.thermalW;
  }
}
