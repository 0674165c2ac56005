import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import { normal, type Rng } from '../transport/rng.js';

/**
 * LoRaWAN ultrasonic water meters (one per building riser or irrigation loop) for potable,
 * reclaimed (中水) and rain water. Use follows the day (morning and evening peaks, quiet nights);
 * now and then a leak starts, adds a steady night flow and raises the leak alarm. Each meter
 * sends its hourly profile once an hour: the log volume 23 hours back and the 23 hourly deltas
 * up to the last full hour. Pure and seeded; ground truth: volume per meter and hour.
 */

export type WaterType = 'potable' | 'reclaimed' | 'rainwater';

export interface WaterUplink {
  ts: number;
  meter: number;
  /** Unix seconds of the log volume (23 h before the last full hour). */
  logTime: number;
  logVolumeL: number;
  deltas: number[];
  alarms: { leak: boolean; low_battery: boolean };
}

interface Meter {
  type: WaterType;
  dailyL: number;
  /** Volume (L) at the end of each hour, by hour start (ms). */
  hourly: Map<number, number>;
  volumeL: number;
  leakLph: number;
  leakUntil: number;
  leakFrom: number;
  offsetMs: number;
}

const USE: Record<WaterType, HourlyCurve> = {
  potable: [0.5, 0.3, 0.2, 0.2, 0.3, 1, 3.5, 5.5, 4.5, 3, 2.5, 3, 3.5, 2.5, 2, 2, 2.5, 3.5, 5, 5.5, 5, 4, 2.5, 1],
  reclaimed: [0.3, 0.2, 0.2, 0.2, 0.3, 0.8, 3.5, 5, 4, 2.5, 2, 2.5, 3, 2, 2, 2, 2.5, 3.5, 4.5, 5, 4.5, 3.5, 2, 0.8],
  // Rain water goes to irrigation and cleaning: early morning and late afternoon.
  rainwater: [0, 0, 0, 0, 0, 3, 8, 6, 2, 1, 1, 1, 1, 1, 1, 2, 5, 7, 3, 1, 0, 0, 0, 0],
};
const DAILY_L: Record<WaterType, [number, number]> = { potable: [9000, 16000], reclaimed: [1500, 3500], rainwater: [500, 2000] };
const HOUR = 3_600_000;
const MAX_DELTA = 16383;

export class WaterMeterModel {
  readonly meters: Meter[];
  private hour: number;

  constructor(
    private readonly opts: { types: readonly WaterType[]; timezone: string; leakChancePerDay: number },
    private readonly rng: Rng,
    start: number,
  ) {
    // Hour boundaries; the meters have 24 hours of history when the scenario starts.
    const first = Math.floor(start / HOUR) * HOUR - 24 * HOUR;
    this.hour = first;
    this.meters = opts.types.map((type) => {
      const [lo, hi] = DAILY_L[type];
      const v = 1_000_000 + Math.floor(rng() * 40_000_000);
      return { type, dailyL: lo + rng() * (hi - lo), hourly: new Map([[first - HOUR, v]]), volumeL: v, leakLph: 0, leakUntil: 0, leakFrom: 0, offsetMs: 60_000 + Math.floor(rng() * 50 * 60_000) };
    });
    while (this.hour + HOUR <= start) this.closeHour();
    this.startTs = start;
  }

  private readonly startTs: number;

  private usage(m: Meter, hourStart: number): number {
    const curve = USE[m.type];
    const total = curve.reduce((a, b) => a + b, 0);
    const share = curveAt(curve, localHour(this.opts.timezone, hourStart) + 0.5) / total;
    const base = Math.max(0, m.dailyL * share * (1 + 0.15 * normal(this.rng)));
    return base + (hourStart >= m.leakFrom && hourStart < m.leakUntil ? m.leakLph : 0);
  }

  private closeHour(): void {
    const h = this.hour;
    for (const m of this.meters) {
      if (m.leakUntil <= h && this.rng() < this.opts.leakChancePerDay / 24) {
        m.leakFrom = h;
        m.leakUntil = h + (12 + Math.floor(this.rng() * 36)) * HOUR;
        m.leakLph = 20 + Math.floor(this.rng() * 60);
      }
      const d = Math.min(MAX_DELTA, Math.round(this.usage(m, h)));
      m.volumeL += d;
      m.hourly.set(h, m.volumeL);
      m.hourly.delete(h - 30 * HOUR);
    }
    this.hour += HOUR;
  }

  /** Close the hours up to `to` and return the uplinks due by then, in time order. */
  advance(to: number): WaterUplink[] {
    // A meter that joins sends its profile at once (then at its minute after each hour).
    if (!this.booted) {
      this.booted = true;
      this.meters.forEach((m, i) => this.pending.push(this.uplink(m, i, this.hour - HOUR, this.startTs)));
    }
    while (this.hour + HOUR <= to) {
      this.closeHour();
      const last = this.hour - HOUR;
      this.meters.forEach((m, i) => this.pending.push(this.uplink(m, i, last, this.hour + m.offsetMs)));
    }
    // Each meter sends at its own minute after the hour.
    this.pending.sort((a, b) => a.ts - b.ts);
    const out: WaterUplink[] = [];
    while (this.pending.length && (this.pending[0] as WaterUplink).ts <= to) out.push(this.pending.shift() as WaterUplink);
    return out;
  }

  private readonly pending: WaterUplink[] = [];
  private booted = false;

  private uplink(m: Meter, i: number, lastHour: number, ts: number): WaterUplink {
    const logHour = lastHour - 23 * HOUR;
    const logVolumeL = m.hourly.get(logHour) ?? m.volumeL;
    const deltas: number[] = [];
    let prev = logVolumeL;
    for (let k = 1; k <= 23; k++) {
      const v = m.hourly.get(logHour + k * HOUR) ?? prev;
      deltas.push(v - prev);
      prev = v;
    }
    const leaking = lastHour >= m.leakFrom + 2 * HOUR && lastHour < m.leakUntil;
    // `hourly` keys are hour starts holding the volume at the hour's end: the log volume is at logHour + 1 h.
    return { ts, meter: i, logTime: Math.floor((logHour + HOUR) / 1000), logVolumeL, deltas, alarms: { leak: leaking, low_battery: false } };
  }

  groundTruth(): Record<string, unknown> {
    return {
      meters: this.meters.map((m, i) => ({ meter: i, type: m.type, volume_l: m.volumeL, leaking: m.leakUntil > this.hour - HOUR && m.leakFrom < this.hour })),
      by_type_l: this.meters.reduce<Record<string, number>>((acc, m) => ({ ...acc, [m.type]: (acc[m.type] ?? 0) + m.volumeL }), {}),
    };
  }
}
