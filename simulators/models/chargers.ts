import type { Rng } from '../transport/rng.js';
import type { ParkingChange } from './parking.js';

/**
 * EV chargers at the parking spaces that have one (OCPP 1.6 semantics). A car that parks there
 * plugs in (Preparing → Charging), charges the energy it needs at about 7 kW, then waits
 * (SuspendedEV); when it leaves the connector goes Finishing → Available. Meter values every
 * minute while a car is plugged in. Pure and seeded; ground truth: energy delivered per charger.
 */

export type ChargerStatus = 'Available' | 'Preparing' | 'Charging' | 'SuspendedEV' | 'Finishing' | 'Faulted';

export type ChargerOutput =
  | { kind: 'status'; ts: number; charger: number; status: ChargerStatus }
  | { kind: 'meter'; ts: number; charger: number; energyWh: number; powerW: number; transactionId: number }
  /** A session's transaction (what an OCPP-J charge point sends; the MQTT-shaped one does not). */
  | { kind: 'start'; ts: number; charger: number; energyWh: number; transactionId: number; idTag: string }
  | { kind: 'stop'; ts: number; charger: number; energyWh: number; transactionId: number };

interface Session {
  transactionId: number;
  plugged: number;
  chargeFrom: number;
  chargeUntil: number;
  powerW: number;
}

interface Charger {
  space: number;
  registerWh: number;
  session: Session | undefined;
  nextMeter: number;
  delivered: number;
  chargingMs: number;
}

const METER_EVERY_MS = 60_000;

export class ChargerModel {
  private t: number;
  private readonly chargers: Charger[];
  private readonly bySpace = new Map<number, number>();
  private readonly pending: ChargerOutput[] = [];
  private tx = 0;
  sessions = 0;

  constructor(
    spaces: readonly number[],
    private readonly rng: Rng,
    start: number,
  ) {
    this.t = start;
    this.chargers = spaces.map((space, i) => {
      this.bySpace.set(space, i);
      return { space, registerWh: 1_000_000 + Math.floor(rng() * 5_000_000), session: undefined, nextMeter: start, delivered: 0, chargingMs: 0 };
    });
  }

  get count(): number {
    return this.chargers.length;
  }

  /** Every charger's status at the start (a charge point sends StatusNotification on boot). */
  boot(): ChargerOutput[] {
    return this.chargers.map((_, i) => ({ kind: 'status' as const, ts: this.t, charger: i, status: 'Available' as const }));
  }

  private energyAt(c: Charger, ts: number): number {
    const s = c.session;
    if (!s || ts <= s.chargeFrom) return c.registerWh;
    return c.registerWh + (s.powerW * (Math.min(ts, s.chargeUntil) - s.chargeFrom)) / 3_600_000;
  }

  /** Follow the car park to `to`: plug-ins, charging, departures and meter values. */
  advance(changes: readonly ParkingChange[], to: number): ChargerOutput[] {
    for (const ch of changes) {
      const i = this.bySpace.get(ch.space);
      if (i === undefined) continue;
      const c = this.chargers[i] as Charger;
      if (ch.occupied && !c.session && (ch.car.resident || this.rng() < 0.5)) {
        const powerW = 6800 + Math.floor(this.rng() * 400);
        const needWh = 5000 + this.rng() * 25_000;
        const chargeFrom = ch.ts + 120_000;
        c.session = { transactionId: ++this.tx, plugged: ch.ts + 60_000, chargeFrom, chargeUntil: Math.round(chargeFrom + (needWh / powerW) * 3_600_000), powerW };
        this.sessions++;
        c.nextMeter = c.session.plugged;
        this.pending.push({ kind: 'status', ts: c.session.plugged, charger: i, status: 'Preparing' });
        this.pending.push({ kind: 'start', ts: c.session.plugged, charger: i, energyWh: Math.round(c.registerWh), transactionId: c.session.transactionId, idTag: `CARD${String(ch.space).padStart(5, '0')}` });
        this.pending.push({ kind: 'status', ts: chargeFrom, charger: i, status: 'Charging' });
        this.pending.push({ kind: 'status', ts: c.session.chargeUntil, charger: i, status: 'SuspendedEV' });
      } else if (!ch.occupied && c.session) {
        const s = c.session;
        const leave = Math.max(ch.ts, s.plugged + 1000);
        const end = Math.min(Math.max(leave, s.chargeFrom), s.chargeUntil);
        // A car that leaves early stops charging: drop what no longer happens.
        for (let k = this.pending.length - 1; k >= 0; k--) {
          const p = this.pending[k] as ChargerOutput;
          if (p.charger === i && p.ts >= leave) this.pending.splice(k, 1);
        }
        if (leave < s.chargeFrom) s.chargeFrom = s.chargeUntil = leave;
        s.chargeUntil = Math.min(s.chargeUntil, Math.max(end, s.chargeFrom));
        const energy = this.energyAt(c, s.chargeUntil);
        c.delivered += energy - c.registerWh;
        c.chargingMs += s.chargeUntil - s.chargeFrom;
        this.pending.push({ kind: 'meter', ts: leave, charger: i, energyWh: Math.round(energy), powerW: 0, transactionId: s.transactionId });
        this.pending.push({ kind: 'stop', ts: leave, charger: i, energyWh: Math.round(energy), transactionId: s.transactionId });
        this.pending.push({ kind: 'status', ts: leave, charger: i, status: 'Finishing' });
        this.pending.push({ kind: 'status', ts: leave + 30_000, charger: i, status: 'Available' });
        c.registerWh = energy;
        c.session = undefined;
      }
    }
    for (const [i, c] of this.chargers.entries()) {
      const s = c.session;
      if (!s) continue;
      while (c.nextMeter + METER_EVERY_MS <= to) {
        c.nextMeter += METER_EVERY_MS;
        const ts = c.nextMeter;
        const charging = ts > s.chargeFrom && ts <= s.chargeUntil;
        this.pending.push({ kind: 'meter', ts, charger: i, energyWh: Math.round(this.energyAt(c, ts)), powerW: charging ? s.powerW : 0, transactionId: s.transactionId });
      }
    }
    this.t = to;
    this.pending.sort((a, b) => a.ts - b.ts);
    const out: ChargerOutput[] = [];
    while (this.pending.length && (this.pending[0] as ChargerOutput).ts <= this.t) out.push(this.pending.shift() as ChargerOutput);
    return out;
  }

  groundTruth(): Record<string, unknown> {
    const id = (i: number) => `ev-${String(i + 1).padStart(3, '0')}`;
    const openCharging = (c: Charger) => (c.session && this.t > c.session.chargeFrom ? Math.min(this.t, c.session.chargeUntil) - c.session.chargeFrom : 0);
    return {
      chargers: this.chargers.length,
      sessions: this.sessions,
      /** Model time of these figures. */
      at: this.t,
      /** Energy of the sessions that ended (what StopTransaction reported), and their number. */
      completed_wh: Object.fromEntries(this.chargers.map((c, i) => [id(i), Math.round(c.delivered)])),
      completed_sessions: this.sessions - this.chargers.filter((c) => c.session).length,
      /** Time charging so far, the open sessions' included. */
      charging_s_now: Object.fromEntries(this.chargers.map((c, i) => [id(i), (c.chargingMs + openCharging(c)) / 1000])),
      delivered_wh: Object.fromEntries(this.chargers.map((c, i) => [`ev-${String(i + 1).padStart(3, '0')}`, Math.round(c.delivered + (c.session ? this.energyAt(c, this.t) - c.registerWh : 0))])),
      charging_s: Object.fromEntries(this.chargers.map((c, i) => [`ev-${String(i + 1).padStart(3, '0')}`, Math.round(c.chargingMs / 1000)])),
    };
  }
}
