import { AutomatedGarage, GateModel, type GatePass } from '../models/garage.js';
import { DoorModel } from '../models/doors.js';
import { LockerModel } from '../models/lockers.js';
import type { ParkingSource } from './parking-source.js';
import type { Outgoing, Source } from './outgoing.js';
import type { Rng } from './rng.js';

/**
 * The vendor-JSON devices of the transport scene (barrier gates, automated garage, parcel lockers,
 * logistics platform, access doors). Message shapes are the ones the profiles in
 * drivers/profiles describe (barrier-gate, automated-garage, parcel-locker, logistics-platform,
 * access-controller).
 */

const iso8 = (ts: number) => new Date(ts + 8 * 3_600_000).toISOString().replace('Z', '+08:00');

export class GateSource implements Source {
  readonly name = 'gates';
  private readonly model: GateModel;
  private pending: GatePass[] = [];

  constructor(
    gates: readonly string[],
    private readonly parking: ParkingSource,
    rng: Rng,
  ) {
    this.model = new GateModel(gates, rng);
  }

  advance(): Outgoing[] {
    this.pending.push(...this.model.passes(this.parking.changes));
    // Passages are released 90 s behind the car park's clock: a later change can still add an
    // entry up to 90 s earlier than itself, and each gate must publish in time order.
    const until = this.parking.model.now - 90_000;
    this.pending.sort((a, b) => a.ts - b.ts);
    const due = this.pending.filter((p) => p.ts <= until);
    this.pending = this.pending.filter((p) => p.ts > until);
    return due.map((p) => ({
      ts: p.ts,
      topic: `parking/gate/${p.gate}/event`,
      body: { type: 'vehicle_pass', direction: p.direction, plate_no: p.plate, gate_id: p.gate, is_resident: p.resident, pass_time: iso8(p.ts), confidence: 0.95 },
      tsKey: 'pass_time',
      tsFormat: 'iso',
      required: 'plate_no',
      typed: 'is_resident',
    }));
  }

  groundTruth(): Record<string, unknown> {
    return { ...this.model.counts };
  }
}

export class GarageSource implements Source {
  readonly name = 'garage';
  readonly model: AutomatedGarage;

  constructor(opts: { spaces: number; lifts: number; timezone: string }, rng: Rng, start: number, private readonly id = 'a') {
    this.model = new AutomatedGarage(opts, rng, start);
  }

  advance(to: number): Outgoing[] {
    const topic = `parking/garage/${this.id}/event`;
    return this.model.advance(to).map((o): Outgoing => {
      const common = { ts: o.ts, topic, tsKey: 'time', tsFormat: 'ms' as const };
      switch (o.kind) {
        case 'request':
          return { ...common, body: { type: 'retrieval_request', request_id: o.requestId, plate_no: o.plate, time: o.ts }, required: 'request_id', typed: 'plate_no' };
        case 'complete':
          return { ...common, body: { type: 'retrieval_complete', request_id: o.requestId, plate_no: o.plate, bay: o.bay, time: o.ts }, required: 'request_id', typed: 'plate_no' };
        case 'status':
          return { ...common, body: { type: 'status', spaces_total: o.total, spaces_free: o.free, time: o.ts }, required: 'type', typed: 'spaces_free' };
      }
    });
  }

  groundTruth(): Record<string, unknown> {
    return this.model.groundTruth();
  }
}

export class LockerSource implements Source {
  readonly name = 'lockers';
  readonly model: LockerModel;

  constructor(opts: { banks: number; compartments: number; parcelsPerDay: number; timezone: string }, rng: Rng, start: number, private readonly platform = 'hub') {
    this.model = new LockerModel(opts, rng, start);
  }

  advance(to: number): Outgoing[] {
    return this.model.advance(to).map((o): Outgoing => {
      if (o.kind === 'arrived' || o.kind === 'delivered') {
        const body = o.kind === 'arrived' ? { event: 'arrived', waybill: o.parcel, carrier: o.carrier, ts: iso8(o.ts) } : { event: 'delivered', waybill: o.parcel, ts: iso8(o.ts) };
        return { ts: o.ts, topic: `logistics/platform/${this.platform}/event`, body, tsKey: 'ts', tsFormat: 'iso', required: 'waybill', typed: 'waybill' };
      }
      const topic = `logistics/locker/${o.bank + 1}/event`;
      if (o.kind === 'status')
        return { ts: o.ts, topic, body: { event: 'status', occupied: o.occupied, total: o.total, ts: o.ts }, tsKey: 'ts', tsFormat: 'ms', required: 'event', typed: 'occupied' };
      if (o.kind === 'fault')
        return { ts: o.ts, topic, body: { event: 'fault', compartment: o.compartment, lock_status: 'blocked', ts: o.ts }, tsKey: 'ts', tsFormat: 'ms', required: 'compartment', typed: 'compartment' };
      return {
        ts: o.ts,
        topic,
        body: { event: o.kind, tracking_no: o.parcel, compartment: o.compartment, occupied: o.occupied, total: o.total, ts: o.ts },
        tsKey: 'ts',
        tsFormat: 'ms',
        required: 'tracking_no',
        typed: 'compartment',
      };
    });
  }

  groundTruth(): Record<string, unknown> {
    return this.model.groundTruth();
  }
}

export class DoorSource implements Source {
  readonly name = 'doors';
  readonly model: DoorModel;

  constructor(opts: { doors: number; timezone: string }, rng: Rng, start: number) {
    this.model = new DoorModel(opts, rng, start);
  }

  advance(to: number): Outgoing[] {
    return this.model.advance(to).map((o): Outgoing => {
      const door = `d${String(o.door + 1).padStart(2, '0')}`;
      const topic = `access/ctl-${1 + Math.floor(o.door / 8)}/door/${door}/event`;
      const time = Math.floor(o.ts / 1000);
      const common = { ts: o.ts, topic, tsKey: 'time', tsFormat: 's' as const };
      switch (o.kind) {
        case 'access':
          return {
            ...common,
            body: { type: 'access', time, isknown: String(o.granted), access: o.granted ? 'Always' : 'Denied', uid: o.credential, door, method: o.method },
            required: 'uid',
            typed: 'uid',
          };
        case 'state':
          return { ...common, body: { type: 'INFO', src: 'door', desc: o.open ? 'Door Open' : 'Door Closed', time }, required: 'desc', typed: 'desc' };
        case 'warn':
          return { ...common, body: { type: 'WARN', src: 'door', desc: o.what === 'forced' ? 'Door Forced Open' : 'Door Held Open', time }, required: 'desc', typed: 'desc' };
      }
    });
  }

  groundTruth(): Record<string, unknown> {
    return this.model.groundTruth();
  }
}
