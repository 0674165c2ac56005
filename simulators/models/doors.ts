import { curveAt, localHour, type HourlyCurve } from '../transport/rhythm.js';
import { poisson, type Rng } from '../transport/rng.js';

/**
 * Access-control doors of the community (building entrances, garage lobby, gates). Residents
 * badge in by card, face, QR code or app, more in the morning and evening; a few attempts are
 * denied; now and then a door is held open or forced. Pure and seeded.
 */

export type DoorOutput =
  | { kind: 'access'; ts: number; door: number; granted: boolean; credential: string; method: Method }
  | { kind: 'state'; ts: number; door: number; open: boolean }
  | { kind: 'warn'; ts: number; door: number; what: 'forced' | 'held_open' };

export type Method = 'card' | 'face' | 'qr' | 'pin' | 'app';

// Attempts per door per hour.
const ATTEMPTS: HourlyCurve = [1, 0.5, 0.3, 0.3, 0.5, 2, 8, 20, 18, 8, 6, 7, 9, 7, 6, 6, 8, 16, 20, 15, 10, 6, 3, 2];
const STEP_MS = 60_000;

export class DoorModel {
  private t: number;
  private readonly pending: DoorOutput[] = [];
  private readonly openUntil: number[];
  private readonly residents: { credential: string; method: Method }[] = [];
  readonly counts = { granted: 0, denied: 0, forced: 0, held_open: 0 };
  private booted = false;

  constructor(
    private readonly opts: { doors: number; timezone: string; residents?: number },
    private readonly rng: Rng,
    start: number,
  ) {
    this.t = start;
    this.openUntil = Array.from({ length: opts.doors }, () => start);
    for (let i = 0; i < (opts.residents ?? 400); i++) {
      const u = rng();
      const method: Method = u < 0.5 ? 'card' : u < 0.85 ? 'face' : u < 0.95 ? 'qr' : 'app';
      const credential = method === 'face' ? `F${String(100000 + i)}` : method === 'card' ? `04${this.hex(8)}` : `${method.toUpperCase()}-${this.hex(10)}`;
      this.residents.push({ credential, method });
    }
  }

  private hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789ABCDEF'[Math.floor(this.rng() * 16)];
    return s;
  }

  get now(): number {
    return this.t;
  }

  private openClose(door: number, ts: number, openMs: number): void {
    this.pending.push({ kind: 'state', ts, door, open: true }, { kind: 'state', ts: ts + openMs, door, open: false });
    this.openUntil[door] = ts + openMs;
  }

  advance(to: number): DoorOutput[] {
    if (!this.booted) {
      this.booted = true;
      for (let d = 0; d < this.opts.doors; d++) this.pending.push({ kind: 'state', ts: this.t, door: d, open: false });
    }
    while (this.t + STEP_MS <= to) {
      const from = this.t;
      this.t += STEP_MS;
      const hour = localHour(this.opts.timezone, from);
      for (let d = 0; d < this.opts.doors; d++) {
        const n = poisson(this.rng, curveAt(ATTEMPTS, hour) / 60);
        for (let k = 0; k < n; k++) {
          const ts = from + Math.floor(this.rng() * STEP_MS);
          if (ts <= (this.openUntil[d] as number)) continue;
          const who = this.residents[Math.floor(this.rng() * this.residents.length)] as (typeof this.residents)[number];
          const denied = this.rng() < 0.03;
          const credential = denied && this.rng() < 0.5 ? `04${this.hex(8)}` : who.credential;
          this.pending.push({ kind: 'access', ts, door: d, granted: !denied, credential, method: who.method });
          if (denied) {
            continue;
          }
          if (this.rng() < 0.005) {
            this.openClose(d, ts + 1000, 95_000);
            this.pending.push({ kind: 'warn', ts: ts + 61_000, door: d, what: 'held_open' });
          } else this.openClose(d, ts + 1000, 4000 + Math.floor(this.rng() * 10_000));
        }
        // Forced about once a week per door, never while it is open.
        if (this.rng() < STEP_MS / (7 * 86_400_000)) {
          const ts = from + Math.floor(this.rng() * STEP_MS);
          if (ts > (this.openUntil[d] as number)) {
            this.pending.push({ kind: 'warn', ts, door: d, what: 'forced' });
            this.openClose(d, ts + 1, 20_000);
          }
        }
      }
    }
    // Door-closed messages fall after the step: report only up to the model's own time.
    this.pending.sort((a, b) => a.ts - b.ts);
    const out: DoorOutput[] = [];
    while (this.pending.length && (this.pending[0] as DoorOutput).ts <= this.t) {
      const o = this.pending.shift() as DoorOutput;
      if (o.kind === 'access') this.counts[o.granted ? 'granted' : 'denied']++;
      else if (o.kind === 'warn') this.counts[o.what]++;
      out.push(o);
    }
    return out;
  }

  groundTruth(): Record<string, unknown> {
    return { doors: this.opts.doors, ...this.counts };
  }
}
