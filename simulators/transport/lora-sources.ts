import { encodeWaterMeterFrame, encodeWaterStatus, WATER_METER_PORT } from '../../drivers/mqtt/codecs/lorawan-water-meter.js';
import { ChargerModel, type ChargerOutput } from '../models/chargers.js';
import { WaterMeterModel, type WaterType } from '../models/lora-water.js';
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

/** LoRaWAN water meters through ChirpStack: one hourly-profile uplink per meter and hour. */
export class WaterSource implements Source {
  readonly name = 'water';
  readonly model: WaterMeterModel;
  private readonly devices: LoraDevice[];

  constructor(
    opts: { types: readonly WaterType[]; timezone: string; leakChancePerDay: number },
    private readonly rng: Rng,
    start: number,
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
    return this.model.advance(to).map((u) => {
      const frame = encodeWaterMeterFrame({ time: u.logTime, status: encodeWaterStatus(u.alarms), logVolumeL: u.logVolumeL, deltas: u.deltas });
      return chirpstackUplink(APPLICATIONS.water, this.devices[u.meter] as LoraDevice, WATER_METER_PORT, frame, u.ts, this.rng);
    });
  }

  groundTruth(): Record<string, unknown> {
    const t = this.model.groundTruth();
    return { ...t, devices: this.devices.map((d) => ({ id: d.name, ...d.tags })) };
  }
}
