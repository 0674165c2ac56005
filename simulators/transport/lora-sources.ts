import { encodeWaterMeterFrame, encodeWaterStatus, WATER_METER_PORT } from '../../drivers/mqtt/codecs/lorawan-water-meter.js';
import { ChargerModel, type ChargerOutput } from '../models/chargers.js';
import { WaterMeterModel, type WaterType, type WaterUplink } from '../models/lora-water.js';
import { APPLICATIONS, chirpstackUplink, devEui, type LoraDevice } from './chirpstack.js';
import type { Outgoing, Source } from './outgoing.js';
import type { ParkingSource } from './parking-source.js';
import type { Rng } from './rng.js';

/**
 * EV chargers following the cars on the charger spaces: OCPP 1.6 bodies as JSON on MQTT (one topic
 * per action), or, given `ocpp`, handed to OCPP-J charge points (simulators/servers/ocpp-charge-points.ts)
 * that speak to the gateway over WebSocket; then nothing goes to MQTT.
 */
export class ChargerSource implements Source {
  readonly name = 'chargers';
  readonly model: ChargerModel;
  private booted = false;

  constructor(
    private readonly parking: ParkingSource,
    rng: Rng,
    start: number,
    private readonly ocpp?: (outputs: readonly ChargerOutput[], now: number) => void,
  ) {
    const spaces = parking.model.spaces.flatMap((s, i) => (s.hasCharger ? [i] : []));
    this.model = new ChargerModel(spaces, rng, start);
  }

  static id(i: number): string {
    return `ev-${String(i + 1).padStart(3, '0')}`;
  }

  advance(): Outgoing[] {
    const outs = this.booted ? [] : this.model.boot();
    this.booted = true;
    // Follow the car park's own time, never beyond it: a change still to come could be earlier.
    outs.push(...this.model.advance(this.parking.changes, this.parking.model.now));
    if (this.ocpp) {
      this.ocpp(outs, this.parking.model.now);
      return [];
    }
    return outs.flatMap((o) => (o.kind === 'start' || o.kind === 'stop' ? [] : [o])).map((o): Outgoing => {
      const id = ChargerSource.id(o.charger);
      const timestamp = new Date(o.ts).toISOString();
      if (o.kind === 'status')
        return {
          ts: o.ts,
          topic: `ocpp/${id}/StatusNotification`,
          body: { connectorId: 1, errorCode: 'NoError', status: o.status, timestamp },
          tsKey: 'timestamp',
          tsFormat: 'iso',
          required: 'status',
          typed: 'status',
        };
      return {
        ts: o.ts,
        topic: `ocpp/${id}/MeterValues`,
        body: {
          connectorId: 1,
          transactionId: o.transactionId,
          meterValue: [
            {
              timestamp,
              sampledValue: [
                { value: String(o.energyWh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
                { value: String(o.powerW), context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
              ],
            },
          ],
        },
        // OCPP meter values carry their time inside meterValue[]; the fault copy rewrites it there.
        tsKey: 'meterValue.0.timestamp',
        tsFormat: 'iso',
        required: 'meterValue',
        typed: 'meterValue',
      };
    });
  }

  groundTruth(): Record<string, unknown> {
    return this.model.groundTruth();
  }
}

/** A meter that goes offline: its uplinks from `from` to `until` are buffered and replayed when it is back. */
export interface WaterOutage {
  /** 0-based meter index. */
  meter: number;
  from: number;
  until: number;
}

/** Seconds between two replayed uplinks (a class A device sends its buffer one frame at a time). */
const REPLAY_GAP_MS = 60_000;

/**
 * LoRaWAN water meters through ChirpStack: one hourly-profile uplink per meter and hour. With an
 * outage, one meter buffers what it would have sent and replays it when it is back: each frame
 * with its own log time (the meter's clock) and a new frame counter, received (ChirpStack `time`)
 * at replay time, after the newer live uplinks of the other meters.
 */
export class WaterSource implements Source {
  readonly name = 'water';
  readonly model: WaterMeterModel;
  private readonly devices: LoraDevice[];
  private buffered: WaterUplink[] = [];
  private replayed = 0;

  constructor(
    opts: { types: readonly WaterType[]; timezone: string; leakChancePerDay: number },
    private readonly rng: Rng,
    start: number,
    private readonly outage?: WaterOutage,
  ) {
    this.model = new WaterMeterModel(opts, rng, start);
    this.devices = opts.types.map((type, i) => ({
      devEui: devEui('70b3d5e75e', i + 1),
      name: `wm-lora-${String(i + 1).padStart(2, '0')}`,
      tags: { water_type: type, building: `b${1 + (i % 12)}` },
      fCnt: 0,
    }));
  }

  advance(to: number): Outgoing[] {
    const o = this.outage;
    const live: Outgoing[] = [];
    for (const u of this.model.advance(to)) {
      if (o && u.meter === o.meter && u.ts >= o.from && u.ts < o.until) this.buffered.push(u);
      else live.push(this.send(u, u.ts));
    }
    if (!o || to < o.until || !this.buffered.length) return live;
    const replay = this.buffered.map((u, i) => this.send(u, o.until + i * REPLAY_GAP_MS));
    this.replayed += replay.length;
    this.buffered = [];
    return [...live, ...replay];
  }

  private send(u: WaterUplink, receivedAt: number): Outgoing {
    const frame = encodeWaterMeterFrame({ time: u.logTime, status: encodeWaterStatus(u.alarms), logVolumeL: u.logVolumeL, deltas: u.deltas });
    return chirpstackUplink(APPLICATIONS.water, this.devices[u.meter] as LoraDevice, WATER_METER_PORT, frame, receivedAt, this.rng);
  }

  groundTruth(): Record<string, unknown> {
    const t = this.model.groundTruth();
    return {
      ...t,
      devices: this.devices.map((d) => ({ id: d.name, ...d.tags })),
      /** Volume (L) at the end of each of the last 30 hours, by hour start (ms), per meter. */
      hourly_l: this.model.meters.map((m) => Object.fromEntries(m.hourly)),
      replayed: this.replayed,
      buffered: this.buffered.length,
    };
  }
}
