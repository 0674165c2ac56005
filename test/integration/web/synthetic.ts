import type { IngestBatch } from '../../../drivers/core/driver.js';
import type { Profile } from '../../../drivers/profiles/schema.js';
import type { EventReading, Reading } from '../../../gateway/model/types.js';
import type { Gateway } from '../../../gateway/app.js';
import { mulberry32 } from '../../../simulators/transport/rng.js';

/**
 * A synthetic community of N devices for the page's load test: registered in the running
 * gateway as discovered devices and fed through its real ingest path (normalise → store →
 * /api/live), many simulated minutes per wall second. Seeded, so runs are comparable.
 */

export interface SynthDevice {
  id: string;
  class: string;
  tags: Record<string, string>;
}

/** Device mix of a ~1,000-device community; `n` scales the parking spaces and doors. */
export function synthDevices(n = 1000): SynthDevice[] {
  const out: SynthDevice[] = [];
  const add = (id: string, cls: string, tags: Record<string, string> = {}) => out.push({ id, class: cls, tags });
  for (let i = 1; i <= 8; i++) add(`syn-pv-${i}`, 'pv_inverter');
  for (let i = 1; i <= 2; i++) add(`syn-bess-${i}`, 'battery');
  add('syn-grid-main', 'grid_meter', { role: 'master' });
  for (let i = 1; i <= 6; i++) add(`syn-hp-${i}`, 'heat_pump');
  for (let i = 1; i <= 30; i++) add(`syn-evc-${i}`, 'ev_charger');
  add('syn-garage', 'parking_garage');
  for (let i = 1; i <= 12; i++) add(`syn-locker-${i}`, 'parcel_locker');
  const types = ['potable', 'potable', 'potable', 'reclaimed', 'rainwater', 'hot'];
  for (let i = 1; i <= 40; i++) add(`syn-wm-${i}`, 'water_meter', { water_type: types[i % types.length] ?? 'potable' });
  const rest = Math.max(0, n - out.length);
  const doors = Math.round(rest * 0.15);
  for (let i = 1; i <= doors; i++) add(`syn-door-${i}`, 'access_door');
  const spaces = rest - doors;
  for (let i = 1; i <= spaces; i++) add(`syn-space-${i}`, 'parking_space', { zone: `Z${1 + (i % 8)}` });
  return out;
}

/** Register the devices in a started gateway (as discovery would). */
export function registerSynth(gw: Gateway, devices: SynthDevice[]): void {
  const classes = [...new Set(devices.map((d) => d.class))];
  const profile: Profile = { id: 'synthetic', description: 'synthetic load for the dashboard test', classes, protocol: 'synthetic', file: 'synthetic' };
  for (const d of devices) {
    gw.devices.add(
      { id: d.id, class: d.class, connection: 'synthetic', profile: 'synthetic', tags: d.tags, options: {}, enabled: true },
      profile,
      true,
    );
  }
}

export class SynthCommunity {
  private readonly rand: () => number;
  private readonly totals = new Map<string, number>();
  private seq = 0;

  constructor(
    readonly devices: SynthDevice[],
    seed = 7,
  ) {
    this.rand = mulberry32(seed);
  }

  private total(key: string, add: number): number {
    const v = (this.totals.get(key) ?? 1000) + add;
    this.totals.set(key, v);
    return v;
  }

  /** One reporting round at time `ts` covering `dtS` simulated seconds. */
  round(ts: number, dtS: number): IngestBatch {
    const r = this.rand;
    const readings: Reading[] = [];
    const events: EventReading[] = [];
    const hour = (ts / 3_600_000) % 24;
    const sun = Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI));
    const put = (device: string, metric: string, value: number | boolean | string) => readings.push({ device, metric, value, ts });
    for (const d of this.devices) {
      switch (d.class) {
        case 'pv_inverter': {
          const p = Math.round(50_000 * sun * (0.8 + 0.2 * r()));
          put(d.id, 'ac_power', p);
          put(d.id, 'energy_total', this.total(`${d.id}/e`, (p * dtS) / 3600));
          break;
        }
        case 'battery':
          put(d.id, 'power', Math.round((r() - 0.5) * 40_000));
          put(d.id, 'soc', Math.round(20 + 60 * r()));
          break;
        case 'grid_meter':
          put(d.id, 'power', Math.round(120_000 - 300_000 * sun + 20_000 * r()));
          break;
        case 'heat_pump': {
          const e = Math.round(3000 + 2000 * r());
          put(d.id, 'electric_power', e);
          put(d.id, 'thermal_power', Math.round(e * (3 + r())));
          break;
        }
        case 'ev_charger':
          if (r() < 0.1) put(d.id, 'status', r() < 0.5 ? 'charging' : 'available');
          put(d.id, 'power', r() < 0.5 ? Math.round(7000 * r()) : 0);
          break;
        case 'parking_garage':
          put(d.id, 'spaces_total', 400);
          put(d.id, 'spaces_free', Math.round(400 * r()));
          break;
        case 'parcel_locker':
          put(d.id, 'compartments_total', 120);
          put(d.id, 'compartments_occupied', Math.round(120 * r()));
          break;
        case 'water_meter':
          put(d.id, 'flow', Math.round(r() * 300) / 100);
          put(d.id, 'volume_total', this.total(`${d.id}/v`, r() * 0.5));
          break;
        case 'access_door':
          if (r() < 0.3) put(d.id, 'door_open', r() < 0.2);
          if (r() < 0.1) {
            const denied = r() < 0.1;
            events.push({ device: d.id, ts, type: denied ? 'access_denied' : 'access_granted', attributes: { credential: `card-${Math.floor(r() * 5000)}`, method: 'card' } });
          }
          break;
        case 'parking_space':
          if (r() < 0.2) put(d.id, 'occupied', r() < 0.6);
          break;
        default:
          break;
      }
    }
    // A few transport events per round so the lists keep moving.
    const id = () => `${ts}-${++this.seq}`;
    const rq = id();
    events.push({ device: 'syn-garage', ts, type: 'retrieval_requested', attributes: { vehicle: `ZA${this.seq}`, request_id: rq } });
    events.push({ device: 'syn-garage', ts: ts + 1, type: 'retrieval_completed', attributes: { vehicle: `ZA${this.seq}`, request_id: rq } });
    const parcel = `SF${id()}`;
    events.push({ device: 'syn-locker-1', ts, type: 'parcel_arrived', attributes: { parcel } });
    events.push({ device: 'syn-locker-1', ts: ts + 1, type: 'parcel_deposited', attributes: { parcel, compartment: 'A1' } });
    return { readings, events };
  }
}
