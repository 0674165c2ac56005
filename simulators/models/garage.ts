import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import type { Rng } from '../transport/rng.js';
import { normal, pick } from '../transport/rng.js';
import { randomPlate, type ParkingChange } from './parking.js';

/**
 * Barrier gates and the automated garage. Gate passages follow the surface car park (a car that
 * takes a space drove in through a gate a minute before; one that leaves passes a gate a minute
 * after). The automated garage stores cars and hands them back on request through a few lifts:
 * retrieval time = queueing + service, the "5 minutes to your car" promise. Pure and seeded;
 * everything a test needs (exact request and hand-over times) is in the ground truth.
 */

export interface GatePass {
  ts: number;
  gate: string;
  direction: 'in' | 'out';
  plate: string;
  resident: boolean;
}

export class GateModel {
  counts = { entries: 0, exits: 0 };
  constructor(
    readonly gates: readonly string[],
    private readonly rng: Rng,
  ) {}

  /** Passages for these car-park changes (entry before the car parks, exit after it leaves). */
  passes(changes: readonly ParkingChange[]): GatePass[] {
    if (this.gates.length === 0) return [];
    return changes.map((c) => {
      const drive = 30_000 + Math.floor(this.rng() * 60_000);
      if (c.occupied) this.counts.entries++;
      else this.counts.exits++;
      return {
        ts: c.occupied ? c.ts - drive : c.ts + drive,
        gate: pick(this.rng, this.gates),
        direction: c.occupied ? 'in' : 'out',
        plate: c.car.plate,
        resident: c.car.resident,
      };
    });
  }
}

export type GarageOutput =
  | { kind: 'request'; ts: number; requestId: string; plate: string }
  | { kind: 'complete'; ts: number; requestId: string; plate: string; bay: number }
  | { kind: 'status'; ts: number; total: number; free: number };

export interface Retrieval {
  request_id: string;
  plate: string;
  requested: number;
  completed?: number;
  seconds?: number;
}

// Chance per hour that a stored car is asked for (mornings), and that a free bay gets a car (evenings).
const RETRIEVE: HourlyCurve = [0.003, 0.002, 0.002, 0.002, 0.003, 0.01, 0.06, 0.22, 0.25, 0.1, 0.04, 0.03, 0.04, 0.04, 0.03, 0.03, 0.04, 0.05, 0.05, 0.04, 0.02, 0.01, 0.005, 0.004];
const STORE: HourlyCurve = [0.02, 0.01, 0.01, 0.01, 0.01, 0.01, 0.02, 0.03, 0.03, 0.04, 0.05, 0.05, 0.06, 0.05, 0.05, 0.06, 0.1, 0.3, 0.4, 0.35, 0.25, 0.15, 0.08, 0.04];
const STEP_MS = 60_000;
const STATUS_EVERY_MS = 300_000;
const MAX_KEPT = 20_000;

export class AutomatedGarage {
  private t: number;
  private readonly stored: string[] = [];
  private readonly queue: { requestId: string; plate: string; requested: number }[] = [];
  private readonly liftFreeAt: number[];
  private readonly pending: GarageOutput[] = [];
  private nextStatus: number;
  private seq = 0;
  /** Every retrieval by request id (bounded: the oldest go past MAX_KEPT). */
  readonly retrievals = new Map<string, Retrieval>();

  constructor(
    private readonly opts: { spaces: number; lifts: number; timezone: string },
    private readonly rng: Rng,
    start: number,
  ) {
    this.t = start;
    this.liftFreeAt = Array.from({ length: opts.lifts }, () => start);
    const hour = localHour(opts.timezone, start);
    const fill = hour < 7 || hour >= 20 ? 0.85 : 0.45;
    for (let i = 0; i < Math.round(opts.spaces * fill); i++) this.stored.push(randomPlate(rng));
    this.nextStatus = start;
    this.startTs = start;
  }

  private readonly startTs: number;

  get now(): number {
    return this.t;
  }

  private serviceMs(): number {
    // Most hand-overs take two to three minutes; a few stall (a lift re-homes, a pallet jams).
    if (this.rng() < 0.03) return 350_000 + Math.floor(this.rng() * 150_000);
    return Math.round(Math.min(600_000, Math.max(60_000, 150_000 + normal(this.rng) * 40_000)));
  }

  /** Step to `to`; returns what the garage controller reported up to its own time, in order. */
  advance(to: number): GarageOutput[] {
    // The controller reports its state as soon as it is up.
    if (this.nextStatus === this.startTs) {
      this.pending.push({ kind: 'status', ts: this.t, total: this.opts.spaces, free: this.freeAt(this.t) });
      this.nextStatus += STATUS_EVERY_MS;
    }
    while (this.t + STEP_MS <= to) {
      const from = this.t;
      this.t += STEP_MS;
      const hour = localHour(this.opts.timezone, from);
      const dtH = STEP_MS / 3_600_000;
      const pRetrieve = curveAt(RETRIEVE, hour) * dtH;
      for (let i = this.stored.length - 1; i >= 0; i--) {
        if (this.rng() >= pRetrieve) continue;
        const plate = this.stored.splice(i, 1)[0] as string;
        const requested = from + Math.floor(this.rng() * STEP_MS);
        const requestId = `R-${String(++this.seq).padStart(6, '0')}`;
        this.queue.push({ requestId, plate, requested });
        this.retrievals.set(requestId, { request_id: requestId, plate, requested });
        if (this.retrievals.size > MAX_KEPT) this.retrievals.delete(this.retrievals.keys().next().value as string);
        this.pending.push({ kind: 'request', ts: requested, requestId, plate });
      }
      const free = this.opts.spaces - this.stored.length - this.queue.length;
      if (free > 0 && this.rng() < curveAt(STORE, hour) * dtH * free * 0.5) this.stored.push(randomPlate(this.rng));
      this.queue.sort((a, b) => a.requested - b.requested);
      while (this.queue.length) {
        const lift = this.liftFreeAt.indexOf(Math.min(...this.liftFreeAt));
        const r = this.queue[0] as (typeof this.queue)[number];
        const startAt = Math.max(r.requested, this.liftFreeAt[lift] as number);
        if (startAt > this.t) break;
        this.queue.shift();
        const done = startAt + this.serviceMs();
        this.liftFreeAt[lift] = done;
        const rec = this.retrievals.get(r.requestId);
        if (rec) Object.assign(rec, { completed: done, seconds: (done - r.requested) / 1000 });
        this.pending.push({ kind: 'complete', ts: done, requestId: r.requestId, plate: r.plate, bay: lift + 1 });
      }
      while (this.nextStatus <= this.t) {
        this.pending.push({ kind: 'status', ts: this.nextStatus, total: this.opts.spaces, free: this.freeAt(this.nextStatus) });
        this.nextStatus += STATUS_EVERY_MS;
      }
    }
    // Hand-overs finish in the future: report only what has happened by the garage's own time.
    this.pending.sort((a, b) => a.ts - b.ts);
    const out: GarageOutput[] = [];
    while (this.pending.length && (this.pending[0] as GarageOutput).ts <= this.t) out.push(this.pending.shift() as GarageOutput);
    return out;
  }

  /** Bays free at `ts`: a retrieved car's bay frees when the car is handed over. */
  private freeAt(ts: number): number {
    let leaving = this.queue.length;
    for (const r of this.retrievals.values()) if (r.completed !== undefined && r.completed > ts) leaving++;
    return Math.max(0, this.opts.spaces - this.stored.length - leaving);
  }

  groundTruth(): Record<string, unknown> {
    const all = [...this.retrievals.values()];
    const done = all.filter((r) => r.seconds !== undefined && (r.completed ?? Infinity) <= this.t);
    const secs = done.map((r) => r.seconds as number).sort((a, b) => a - b);
    const p95 = secs.length ? secs[Math.min(secs.length - 1, Math.ceil(0.95 * secs.length) - 1)] : undefined;
    return {
      spaces: this.opts.spaces,
      stored: this.stored.length,
      retrievals: all.map((r) => ({ ...r })),
      completed: done.length,
      retrieval_seconds_p95: p95,
      within_5min: secs.length ? secs.filter((s) => s <= 300).length / secs.length : undefined,
    };
  }
}
