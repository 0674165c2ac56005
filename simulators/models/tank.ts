import { WATER_WH_PER_M3K } from './heat-pump.js';

/**
 * A stratified thermal storage (buffer) tank between the heat pumps and the buildings
 * (exported for the Modbus energy simulator and, later, the OPC UA energy station). One energy
 * balance on the mean temperature; the top is warmer than the bottom by a spread that grows
 * while it is charged. Exact ground truth: heat in, heat out, losses.
 */
export interface TankOptions {
  volumeM3: number;
  startC?: number;
  /** Heat loss to the plant room, W/K (plant room at 20 °C). */
  lossWPerK?: number;
  /** Heating demand of the buildings it serves, W per K below 18 °C outdoor. */
  buildingWPerK?: number;
  /** Switch the heat pumps on below / off above this mean temperature. */
  onBelowC?: number;
  offAboveC?: number;
}

export class ThermalTank {
  meanC: number;
  spreadK = 4;
  heatInWh = 0;
  heatOutWh = 0;
  lossWh = 0;
  demandW = 0;
  /** The tank asks the heat pumps for heat (hysteresis between onBelowC and offAboveC). */
  heatingCall = false;

  constructor(readonly o: TankOptions) {
    this.meanC = o.startC ?? 42;
  }

  get topC(): number {
    return this.meanC + this.spreadK / 2;
  }

  get bottomC(): number {
    return this.meanC - this.spreadK / 2;
  }

  /** Energy above `refC` (Wh), as the gateway derives it from top and bottom. */
  storedWh(refC: number): number {
    return WATER_WH_PER_M3K * this.o.volumeM3 * (this.meanC - refC);
  }

  step(dtMs: number, heatInW: number, outdoorC: number): void {
    const h = dtMs / 3_600_000;
    // The buildings take less when the tank is cold (mixing valves open fully).
    this.demandW = Math.max(0, (this.o.buildingWPerK ?? 800) * (18 - outdoorC)) * (this.meanC > 25 ? 1 : 0.3);
    const lossW = (this.o.lossWPerK ?? 6) * (this.meanC - 20);
    this.heatInWh += heatInW * h;
    this.heatOutWh += this.demandW * h;
    this.lossWh += lossW * h;
    this.meanC += ((heatInW - this.demandW - lossW) * h) / (WATER_WH_PER_M3K * this.o.volumeM3);
    this.spreadK = Math.max(2, Math.min(10, this.spreadK + (heatInW > 0 ? 2 : -1) * h));
    if (this.meanC < (this.o.onBelowC ?? 40)) this.heatingCall = true;
    else if (this.meanC > (this.o.offAboveC ?? 48)) this.heatingCall = false;
  }
}
