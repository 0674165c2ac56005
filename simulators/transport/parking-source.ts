import { encodeParkingHeartbeat, encodeParkingStatus } from '../../drivers/mqtt/codecs/parking-sensor.js';
import { ParkingModel, type ParkingChange } from '../models/parking.js';
import { Agenda } from './agenda.js';
import { APPLICATIONS, chirpstackUplink, devEui, type LoraDevice } from './chirpstack.js';
import type { Outgoing, Source } from './outgoing.js';
import type { Rng } from './rng.js';

/**
 * Parking-space sensors over LoRaWAN through ChirpStack: a start-up frame when the scenario
 * starts, a status frame on every change and a heartbeat every `heartbeatMs`. The occupancy
 * changes are also what the barrier gates and chargers react to (`changes`).
 */
export class ParkingSource implements Source {
  readonly name = 'parking';
  readonly model: ParkingModel;
  private readonly devices: LoraDevice[];
  private readonly heartbeats = new Agenda<number>();
  private started = false;
  /** The changes of the latest advance, for the sources that follow the cars. */
  changes: ParkingChange[] = [];

  constructor(
    opts: { spaces: number; chargers: number; timezone: string; heartbeatMs: number },
    private readonly rng: Rng,
    private readonly start: number,
  ) {
    this.model = new ParkingModel(opts, rng, start);
    this.devices = this.model.spaces.map((s, i) => ({
      devEui: devEui('a840410000', i + 1),
      name: s.id,
      tags: { zone: `b${1 + Math.floor(i / 100)}`, has_charger: String(s.hasCharger) },
      fCnt: 0,
    }));
    this.devices.forEach((_, i) => this.heartbeats.add(start + Math.floor(rng() * opts.heartbeatMs), i));
    this.heartbeatMs = opts.heartbeatMs;
  }

  private readonly heartbeatMs: number;

  advance(to: number): Outgoing[] {
    const out: Outgoing[] = [];
    if (!this.started) {
      this.started = true;
      this.model.spaces.forEach((s, i) => {
        const frame = new Uint8Array(17);
        frame[16] = s.car ? 1 : 0;
        out.push(chirpstackUplink(APPLICATIONS.parking, this.devices[i] as LoraDevice, 3, frame, this.start, this.rng));
      });
    }
    this.changes = this.model.advance(to);
    const frames: { ts: number; i: number; port: number; bytes: Uint8Array }[] = this.changes.map((c) => ({
      ts: c.ts,
      i: c.space,
      port: 1,
      bytes: encodeParkingStatus(c.occupied),
    }));
    // Only up to the model's own time: a later heartbeat could overtake a change still to come.
    for (const { ts, item: i } of this.heartbeats.takeUntil(this.model.now)) {
      const s = this.model.spaces[i];
      if (!s) continue;
      const temp = 18 + Math.round(this.rng() * 8);
      const later = this.changes.find((c) => c.space === i && c.ts > ts);
      const occupied = later ? !later.occupied : s.car !== undefined;
      frames.push({ ts, i, port: 2, bytes: encodeParkingHeartbeat(occupied, temp) });
      this.heartbeats.add(ts + this.heartbeatMs, i);
    }
    frames.sort((a, b) => a.ts - b.ts);
    for (const f of frames) out.push(chirpstackUplink(APPLICATIONS.parking, this.devices[f.i] as LoraDevice, f.port, f.bytes, f.ts, this.rng));
    return out;
  }

  groundTruth(): Record<string, unknown> {
    return this.model.groundTruth();
  }
}
