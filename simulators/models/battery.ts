/**
 * A battery storage system: it follows a power request within its limits and its state of
 * charge; round-trip losses are taken on charging. Exact ground truth: energy charged and
 * discharged at its terminals.
 */
export interface BatteryOptions {
  capacityWh: number;
  maxChargeW: number;
  maxDischargeW: number;
  soc?: number;
  /** Charging efficiency (energy stored per energy taken). */
  efficiency?: number;
  soh?: number;
}

export class Battery {
  /** + charging, − discharging, W at the terminals. */
  power = 0;
  storedWh: number;
  chargedWh = 0;
  dischargedWh = 0;
  readonly soh: number;
  /** Under remote control the battery follows `setpointW` (+ charge) instead of self-consumption. */
  remote = false;
  setpointW = 0;

  constructor(readonly o: BatteryOptions) {
    this.storedWh = o.capacityWh * (o.soc ?? 0.5);
    this.soh = o.soh ?? 97.5;
  }

  get soc(): number {
    return (100 * this.storedWh) / this.o.capacityWh;
  }

  get state(): 'charging' | 'discharging' | 'full' | 'empty' | 'holding' {
    if (this.power > 0) return 'charging';
    if (this.power < 0) return 'discharging';
    if (this.soc >= 99.5) return 'full';
    if (this.soc <= 5.5) return 'empty';
    return 'holding';
  }

  /** Follow `requestW` (+ charge) for `dtMs`; returns the power actually drawn (+) or delivered (−). */
  step(requestW: number, dtMs: number): number {
    const h = dtMs / 3_600_000;
    if (h <= 0) return 0;
    const eff = this.o.efficiency ?? 0.95;
    let p = Math.max(-this.o.maxDischargeW, Math.min(this.o.maxChargeW, requestW));
    // Keep 5 % reserve and stop at full.
    if (p > 0) p = Math.min(p, Math.max(0, (this.o.capacityWh - this.storedWh) / eff / h));
    else p = Math.max(p, -Math.max(0, (this.storedWh - 0.05 * this.o.capacityWh) / h));
    if (Math.abs(p) < 1) p = 0;
    this.power = p;
    if (p > 0) {
      this.chargedWh += p * h;
      this.storedWh += p * h * eff;
    } else {
      this.dischargedWh += -p * h;
      this.storedWh += p * h;
    }
    return p;
  }
}
