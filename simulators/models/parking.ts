import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import type { Rng } from '../transport/rng.js';

/**
 * Parking spaces of a residential community. Each space belongs to a resident's car that leaves
 * in the morning and comes back in the evening; free spaces take visitors in the daytime.
 * Pure and seeded: `advance(to)` steps simulated minutes and returns the occupancy changes.
 * Ground truth: occupied time per space, entries and exits.
 */

export interface Car {
  plate: string;
  resident: boolean;
}

export interface Space {
  id: string;
  hasCharger: boolean;
  /** The resident car that normally parks here. */
  owner: Car;
  car: Car | undefined;
  since: number;
  occupiedMs: number;
}

export interface ParkingChange {
  ts: number;
  space: number;
  occupied: boolean;
  car: Car;
}

// Per hour of local time: chance per hour that a parked resident car leaves…
const RESIDENT_LEAVES: HourlyCurve = [0.01, 0.01, 0.01, 0.01, 0.01, 0.03, 0.15, 0.45, 0.4, 0.15, 0.06, 0.05, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.06, 0.05, 0.04, 0.03, 0.02, 0.01];
// …and that the resident car of a free space comes back.
const RESIDENT_RETURNS: HourlyCurve = [0.1, 0.05, 0.03, 0.02, 0.02, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.15, 0.1, 0.08, 0.1, 0.15, 0.4, 0.55, 0.5, 0.4, 0.3, 0.25, 0.15];
// Visitors take a free space in the daytime and stay one to three hours.
const VISITOR_ARRIVES: HourlyCurve = [0, 0, 0, 0, 0, 0, 0, 0.01, 0.02, 0.03, 0.04, 0.04, 0.03, 0.03, 0.04, 0.04, 0.03, 0.02, 0.02, 0.02, 0.01, 0, 0, 0];
const VISITOR_LEAVES_PER_H = 0.6;
const STEP_MS = 60_000;

const PROVINCES = ['浙A', '浙A', '浙A', '浙B', '浙C', '浙D', '沪A', '苏E'];
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';

export function randomPlate(rng: Rng): string {
  const p = PROVINCES[Math.floor(rng() * PROVINCES.length)] as string;
  let s = p + (LETTERS[Math.floor(rng() * LETTERS.length)] as string);
  for (let i = 0; i < 4; i++) s += String(Math.floor(rng() * 10));
  return s;
}

export interface ParkingOptions {
  spaces: number;
  chargers: number;
  timezone: string;
  /** Space id prefix; ids are `<prefix>001`… */
  prefix?: string;
}

export class ParkingModel {
  readonly spaces: Space[];
  private t: number;
  entries = 0;
  exits = 0;

  constructor(
    private readonly opts: ParkingOptions,
    private readonly rng: Rng,
    start: number,
  ) {
    this.t = start;
    const hour = localHour(opts.timezone, start);
    // Start near the occupancy typical of the hour: most cars home at night, fewer by day.
    const home = hour < 7 || hour >= 20 ? 0.88 : hour < 9 || hour >= 18 ? 0.6 : 0.35;
    this.spaces = Array.from({ length: opts.spaces }, (_, i) => {
      const owner = { plate: randomPlate(rng), resident: true };
      const parked = rng() < home;
      return {
        id: `${opts.prefix ?? 'space-'}${String(i + 1).padStart(3, '0')}`,
        // Chargers are spread over the lot: every k-th space.
        hasCharger: opts.chargers > 0 && i % Math.max(1, Math.floor(opts.spaces / opts.chargers)) === 0 && Math.floor(i / Math.max(1, Math.floor(opts.spaces / opts.chargers))) < opts.chargers,
        owner,
        car: parked ? owner : undefined,
        since: start,
        occupiedMs: 0,
      };
    });
  }

  get now(): number {
    return this.t;
  }

  occupied(): number {
    return this.spaces.reduce((n, s) => n + (s.car ? 1 : 0), 0);
  }

  /** Step to `to` (simulated ms) and return the occupancy changes in time order. */
  advance(to: number): ParkingChange[] {
    const out: ParkingChange[] = [];
    while (this.t + STEP_MS <= to) {
      const from = this.t;
      this.t += STEP_MS;
      const hour = localHour(this.opts.timezone, from);
      const dtH = STEP_MS / 3_600_000;
      this.spaces.forEach((s, i) => {
        const when = from + Math.floor(this.rng() * STEP_MS);
        if (s.car) {
          const rate = s.car.resident ? curveAt(RESIDENT_LEAVES, hour) : VISITOR_LEAVES_PER_H;
          if (this.rng() < rate * dtH) {
            const car = s.car;
            s.occupiedMs += when - s.since;
            s.car = undefined;
            s.since = when;
            this.exits++;
            out.push({ ts: when, space: i, occupied: false, car });
          }
        } else {
          const back = curveAt(RESIDENT_RETURNS, hour) * dtH;
          const visitor = curveAt(VISITOR_ARRIVES, hour) * dtH;
          const u = this.rng();
          const car = u < back ? s.owner : u < back + visitor ? { plate: randomPlate(this.rng), resident: false } : undefined;
          if (car) {
            s.car = car;
            s.since = when;
            this.entries++;
            out.push({ ts: when, space: i, occupied: true, car });
          }
        }
      });
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  groundTruth(at = this.t): Record<string, unknown> {
    return {
      spaces: this.spaces.length,
      chargers: this.spaces.filter((s) => s.hasCharger).length,
      occupied_now: this.occupied(),
      entries: this.entries,
      exits: this.exits,
      occupied_ms: Object.fromEntries(this.spaces.map((s) => [s.id, s.occupiedMs + (s.car ? at - s.since : 0)])),
    };
  }
}
