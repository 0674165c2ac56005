import { valueNoise } from './energy-noise.js';

/**
 * The sun and the weather over the community: solar elevation from latitude, longitude and time
 * (NOAA's approximate formulas), clear-sky irradiance, seeded passing clouds, and an outdoor
 * temperature with a seasonal and a daily swing. Pure functions of time.
 */

const RAD = Math.PI / 180;

/** Solar elevation in degrees at `ts` (UTC ms) for a site. */
export function solarElevation(ts: number, latitude: number, longitude: number): number {
  const d = new Date(ts);
  const start = Date.UTC(d.getUTCFullYear(), 0, 1);
  const dayOfYear = Math.floor((ts - start) / 86_400_000);
  const hourUtc = d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600;
  const g = ((2 * Math.PI) / 365) * (dayOfYear + (hourUtc - 12) / 24);
  const decl = 0.006918 - 0.399912 * Math.cos(g) + 0.070257 * Math.sin(g) - 0.006758 * Math.cos(2 * g) + 0.000907 * Math.sin(2 * g);
  const eqTime = 229.18 * (0.000075 + 0.001868 * Math.cos(g) - 0.032077 * Math.sin(g) - 0.014615 * Math.cos(2 * g) - 0.040849 * Math.sin(2 * g));
  const solarMinutes = hourUtc * 60 + eqTime + 4 * longitude;
  const hourAngle = (solarMinutes / 4 - 180) * RAD;
  const lat = latitude * RAD;
  const cosZenith = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(hourAngle);
  return 90 - Math.acos(Math.max(-1, Math.min(1, cosZenith))) / RAD;
}

export interface SunOptions {
  latitude: number;
  longitude: number;
  seed: number;
  /** Mean share of irradiance clouds take away (0 clear … 1 overcast). */
  cloudiness?: number;
  /** Annual mean outdoor temperature and daily swing, °C. */
  meanTemp?: number;
  dailySwing?: number;
}

export class Sun {
  constructor(private readonly o: SunOptions) {}

  /** Global horizontal irradiance, W/m². */
  irradiance(ts: number): number {
    const elev = solarElevation(ts, this.o.latitude, this.o.longitude);
    if (elev <= 0) return 0;
    const clear = 1000 * Math.sin(elev * RAD) ** 1.15;
    const clouds = (this.o.cloudiness ?? 0.3) * 2 * valueNoise(this.o.seed, ts, 20 * 60_000);
    return clear * Math.max(0.1, 1 - Math.min(0.9, clouds));
  }

  /** Outdoor temperature, °C: seasonal (coldest mid-January), daily (warmest 14:00 local solar), noise. */
  outdoorTemp(ts: number): number {
    const day = (ts / 86_400_000) % 365.25;
    const seasonal = -9 * Math.cos((2 * Math.PI * (day - 15)) / 365.25);
    const solarHour = (((ts / 3_600_000 + this.o.longitude / 15) % 24) + 24) % 24;
    const daily = ((this.o.dailySwing ?? 8) / 2) * Math.cos((2 * Math.PI * (solarHour - 14)) / 24);
    const noise = 2 * (valueNoise(this.o.seed + 1, ts, 3 * 3_600_000) - 0.5);
    return (this.o.meanTemp ?? 17) + seasonal + daily + noise;
  }
}

/** A PV array behind one inverter. */
export class PvArray {
  producedWh = 0;
  ac = 0;
  dc = 0;
  constructor(
    readonly kwp: number,
    private readonly sun: Sun,
    readonly ratedW = kwp * 1000,
    private readonly efficiency = 0.97,
  ) {}

  step(ts: number, dtMs: number): void {
    this.dc = Math.max(0, this.kwp * this.sun.irradiance(ts) * 0.86);
    this.ac = Math.min(this.ratedW, this.dc * this.efficiency);
    this.producedWh += (this.ac * dtMs) / 3_600_000;
  }

  get state(): 'mppt' | 'sleeping' | 'throttled' {
    if (this.ac <= 0) return 'sleeping';
    return this.ac >= this.ratedW ? 'throttled' : 'mppt';
  }
}
