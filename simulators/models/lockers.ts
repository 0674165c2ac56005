import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import { exponential, poisson, type Rng } from '../transport/rng.js';

/**
 * Parcels for a community: they reach the logistics point in two waves (late morning and
 * mid-afternoon); most go into a locker compartment, some are carried to the door. Residents
 * collect from the lockers soon if they are home, otherwise after work; a few forget for days.
 * Pure and seeded; the ground truth holds every parcel's exact times (the 30-minute promise).
 */

export type LockerOutput =
  | { kind: 'arrived'; ts: number; parcel: string; carrier: string }
  | { kind: 'delivered'; ts: number; parcel: string }
  | { kind: 'deposit'; ts: number; parcel: string; bank: number; compartment: string; occupied: number; total: number }
  | { kind: 'pickup'; ts: number; parcel: string; bank: number; compartment: string; occupied: number; total: number }
  | { kind: 'fault'; ts: number; bank: number; compartment: string }
  | { kind: 'status'; ts: number; bank: number; occupied: number; total: number };

export interface ParcelTruth {
  parcel: string;
  arrived: number;
  deposited?: number;
  compartment?: string;
  picked_up?: number;
  delivered?: number;
}

// Share of the day's parcels arriving in each local hour: waves at 10–12 and 15–16.
const ARRIVALS: HourlyCurve = [0, 0, 0, 0, 0, 0, 0, 0.01, 0.03, 0.08, 0.17, 0.15, 0.05, 0.04, 0.08, 0.15, 0.12, 0.05, 0.03, 0.02, 0.01, 0, 0, 0];
const CARRIERS = [
  ['SF', 12],
  ['YT', 10],
  ['ZTO', 12],
  ['JD', 13],
] as const;
const STEP_MS = 60_000;
const MAX_KEPT = 50_000;

export class LockerModel {
  private t: number;
  private readonly agenda: { ts: number; run: () => LockerOutput[] }[] = [];
  /** compartment → parcel, per bank. */
  private readonly banks: (string | undefined)[][];
  readonly parcels = new Map<string, ParcelTruth>();
  faults = 0;

  constructor(
    private readonly opts: { banks: number; compartments: number; parcelsPerDay: number; timezone: string },
    private readonly rng: Rng,
    start: number,
  ) {
    this.t = start;
    this.banks = Array.from({ length: opts.banks }, () => Array.from({ length: opts.compartments }, () => undefined));
  }

  get now(): number {
    return this.t;
  }

  occupied(bank: number): number {
    return this.banks[bank]?.filter((p) => p !== undefined).length ?? 0;
  }

  private trackingNo(): string {
    const [prefix, digits] = CARRIERS[Math.floor(this.rng() * CARRIERS.length)] as (typeof CARRIERS)[number];
    let s = prefix as string;
    for (let i = 0; i < digits; i++) s += String(Math.floor(this.rng() * 10));
    return s;
  }

  private at(ts: number, run: () => LockerOutput[]): void {
    this.agenda.push({ ts, run });
  }

  /** When a resident comes for a parcel deposited at `ts`: soon if home, else after work; rarely never. */
  private pickupTime(ts: number): number | undefined {
    const u = this.rng();
    if (u < 0.02) return undefined;
    if (u < 0.3) return ts + Math.round(exponential(this.rng, 12 * 60_000)) + 60_000;
    const hour = localHour(this.opts.timezone, ts);
    const dayStart = ts - hour * 3_600_000;
    const evening = dayStart + (18 + this.rng() * 3.5) * 3_600_000;
    return evening > ts ? Math.round(evening) : Math.round(evening + 86_400_000);
  }

  private arrive(ts: number): LockerOutput[] {
    const parcel = this.trackingNo();
    const carrier = parcel.replace(/\d+$/, '');
    this.parcels.set(parcel, { parcel, arrived: ts });
    if (this.parcels.size > MAX_KEPT) this.parcels.delete(this.parcels.keys().next().value as string);
    const toDoor = this.rng() < 0.2;
    const handling = toDoor ? 10 * 60_000 + this.rng() * 35 * 60_000 : 3 * 60_000 + this.rng() * 12 * 60_000;
    this.at(Math.round(ts + handling), () => (toDoor ? this.deliver(parcel, ts + handling) : this.deposit(parcel, Math.round(ts + handling))));
    return [{ kind: 'arrived', ts, parcel, carrier }];
  }

  private deliver(parcel: string, ts: number): LockerOutput[] {
    const p = this.parcels.get(parcel);
    if (p) p.delivered = Math.round(ts);
    return [{ kind: 'delivered', ts: Math.round(ts), parcel }];
  }

  private deposit(parcel: string, ts: number): LockerOutput[] {
    // First bank with a free compartment; when all are full the courier goes to the door.
    for (let b = 0; b < this.banks.length; b++) {
      const bank = this.banks[b] as (string | undefined)[];
      const c = bank.indexOf(undefined);
      if (c < 0) continue;
      bank[c] = parcel;
      const compartment = `${String.fromCharCode(65 + Math.floor(c / 20))}-${String((c % 20) + 1).padStart(2, '0')}`;
      const p = this.parcels.get(parcel);
      if (p) Object.assign(p, { deposited: ts, compartment });
      const when = this.pickupTime(ts);
      if (when !== undefined)
        this.at(when, () => {
          bank[c] = undefined;
          const q = this.parcels.get(parcel);
          if (q) q.picked_up = when;
          return [{ kind: 'pickup', ts: when, parcel, bank: b, compartment, occupied: this.occupied(b), total: bank.length }];
        });
      return [{ kind: 'deposit', ts, parcel, bank: b, compartment, occupied: this.occupied(b), total: bank.length }];
    }
    this.at(ts + 20 * 60_000, () => this.deliver(parcel, ts + 20 * 60_000));
    return [];
  }

  advance(to: number): LockerOutput[] {
    const out: LockerOutput[] = [];
    if (!this.booted) {
      this.booted = true;
      this.banks.forEach((bank, b) => out.push({ kind: 'status', ts: this.t, bank: b, occupied: this.occupied(b), total: bank.length }));
    }
    while (this.t + STEP_MS <= to) {
      const from = this.t;
      this.t += STEP_MS;
      const hour = localHour(this.opts.timezone, from);
      const n = poisson(this.rng, (this.opts.parcelsPerDay * curveAt(ARRIVALS, hour)) / 60);
      for (let i = 0; i < n; i++) this.at(from + Math.floor(this.rng() * STEP_MS), () => this.arrive(this.agendaTs));
      // A compartment reports a fault about once every five days per bank.
      for (let b = 0; b < this.banks.length; b++)
        if (this.rng() < STEP_MS / (5 * 86_400_000)) {
          const ts = from + Math.floor(this.rng() * STEP_MS);
          const c = Math.floor(this.rng() * this.opts.compartments);
          this.faults++;
          this.at(ts, () => [{ kind: 'fault', ts, bank: b, compartment: `${String.fromCharCode(65 + Math.floor(c / 20))}-${String((c % 20) + 1).padStart(2, '0')}` }]);
        }
      // Run what is due in time order; handlers may schedule more (also possibly due now).
      for (;;) {
        this.agenda.sort((a, b) => a.ts - b.ts);
        const next = this.agenda[0];
        if (!next || next.ts > this.t) break;
        this.agenda.shift();
        this.agendaTs = next.ts;
        out.push(...next.run());
      }
    }
    return out.sort((a, b) => a.ts - b.ts);
  }

  private agendaTs = 0;
  private booted = false;

  groundTruth(): Record<string, unknown> {
    const all = [...this.parcels.values()];
    const reached = all.filter((p) => (p.picked_up ?? p.delivered) !== undefined && (p.picked_up ?? p.delivered ?? Infinity) <= this.t);
    const secs = reached.map((p) => ((p.picked_up ?? p.delivered ?? 0) - p.arrived) / 1000).sort((a, b) => a - b);
    return {
      parcels: all.map((p) => ({ ...p })),
      arrived: all.length,
      reached_resident: reached.length,
      within_30min: secs.length ? secs.filter((s) => s <= 1800).length / secs.length : undefined,
      occupied: this.banks.map((_, b) => this.occupied(b)),
      faults: this.faults,
    };
  }
}
