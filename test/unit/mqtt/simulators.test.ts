import { describe, expect, it } from 'vitest';
import { loraWaterMeterCodec } from '../../../drivers/mqtt/codecs/lorawan-water-meter.js';
import { localHour } from '../../../simulators/transport/rhythm.js';
import { ChargerSource, WaterSource } from '../../../simulators/transport/lora-sources.js';
import type { Outgoing, Source } from '../../../simulators/transport/outgoing.js';
import { ParkingSource } from '../../../simulators/transport/parking-source.js';
import { forkRng } from '../../../simulators/transport/rng.js';
import { DoorSource, GarageSource, GateSource, LockerSource } from '../../../simulators/transport/vendor-sources.js';

const TZ = 'Asia/Shanghai';
const START = Date.parse('2024-11-22T00:00:00+08:00');
const HOUR = 3_600_000;

/** One simulated day of the whole transport scene, advanced in 5-minute ticks. */
function day(seed: number) {
  const rng = (n: string) => forkRng(seed, n);
  const parking = new ParkingSource({ spaces: 120, chargers: 20, timezone: TZ, heartbeatMs: 30 * 60_000 }, rng('parking'), START);
  const sources: Source[] = [
    parking,
    new GateSource(['north', 'south'], parking, rng('gates')),
    new ChargerSource(parking, rng('chargers'), START),
    new GarageSource({ spaces: 60, lifts: 2, timezone: TZ }, rng('garage'), START),
    new LockerSource({ banks: 2, compartments: 40, parcelsPerDay: 200, timezone: TZ }, rng('lockers'), START),
    new DoorSource({ doors: 4, timezone: TZ }, rng('doors'), START),
    new WaterSource({ types: ['potable', 'reclaimed', 'rainwater'], timezone: TZ, leakChancePerDay: 0.3 }, rng('water'), START),
  ];
  const out: Outgoing[] = [];
  for (let t = START; t <= START + 24 * HOUR; t += 5 * 60_000) for (const s of sources) out.push(...s.advance(t));
  return { out, sources };
}

const deviceOf = (topic: string) => topic.replace(/\/(StatusNotification|MeterValues)$/, '');
const hourOf = (ts: number) => Math.floor(localHour(TZ, ts));

describe('transport simulators (pure, seeded)', () => {
  const { out, sources } = day(42);
  const truth = Object.fromEntries(sources.map((s) => [s.name, s.groundTruth()]));

  it('are deterministic for a seed', () => {
    const again = day(42).out;
    expect(again.length).toBe(out.length);
    expect(JSON.stringify(again.slice(0, 500).map((o) => [o.topic, o.ts, o.body['plate_no'] ?? o.body['data']]))).toBe(
      JSON.stringify(out.slice(0, 500).map((o) => [o.topic, o.ts, o.body['plate_no'] ?? o.body['data']])),
    );
    expect(day(43).out.length).not.toBe(out.length);
  });

  it('publish every device in time order (so nothing good is refused as out of order)', () => {
    const last = new Map<string, number>();
    for (const o of out) {
      const d = deviceOf(o.topic);
      expect(o.ts, `${o.topic}`).toBeGreaterThanOrEqual(last.get(d) ?? -Infinity);
      last.set(d, o.ts);
    }
  });

  it('follow daily rhythms: morning departures, evening returns, parcel waves, quiet nights', () => {
    const passes = out.filter((o) => o.body['type'] === 'vehicle_pass');
    const count = (dir: string, from: number, to: number) => passes.filter((o) => o.body['direction'] === dir && hourOf(o.ts) >= from && hourOf(o.ts) < to).length;
    expect(count('out', 7, 9)).toBeGreaterThan(3 * count('out', 1, 5) + 5);
    expect(count('in', 17, 20)).toBeGreaterThan(3 * count('in', 1, 5) + 5);
    const arrivals = out.filter((o) => o.body['event'] === 'arrived').map((o) => hourOf(o.ts));
    const inWaves = arrivals.filter((h) => (h >= 10 && h < 12) || (h >= 15 && h < 17)).length;
    expect(inWaves / arrivals.length).toBeGreaterThan(0.5);
    expect(arrivals.filter((h) => h < 6).length).toBe(0);
    const pickups = out.filter((o) => o.body['event'] === 'pickup').map((o) => hourOf(o.ts));
    expect(pickups.filter((h) => h >= 18 && h < 22).length).toBeGreaterThan(pickups.length / 3);
  });

  it('carry exact ground truth: retrieval times match the events by request id', () => {
    const req = new Map(out.filter((o) => o.body['type'] === 'retrieval_request').map((o) => [o.body['request_id'], o.ts]));
    const secs = out
      .filter((o) => o.body['type'] === 'retrieval_complete')
      .map((o) => ((o.ts - (req.get(o.body['request_id']) as number)) / 1000))
      .sort((a, b) => a - b);
    const g = truth['garage'] as { completed: number; retrieval_seconds_p95: number };
    expect(secs.length).toBe(g.completed);
    expect(secs.length).toBeGreaterThan(10);
    expect(secs[Math.ceil(0.95 * secs.length) - 1]).toBe(g.retrieval_seconds_p95);
  });

  it('carry exact ground truth: parcels', () => {
    const l = truth['lockers'] as { parcels: { parcel: string; arrived: number; picked_up?: number; delivered?: number }[] };
    const arrived = new Map(out.filter((o) => o.body['event'] === 'arrived').map((o) => [o.body['waybill'], Date.parse(o.body['ts'] as string)]));
    expect(arrived.size).toBe(l.parcels.length);
    for (const p of l.parcels) expect(arrived.get(p.parcel)).toBe(p.arrived);
    const picked = out.filter((o) => o.body['event'] === 'pickup');
    for (const o of picked) expect(l.parcels.find((p) => p.parcel === o.body['tracking_no'])?.picked_up).toBe(o.ts);
  });

  it('water meter frames decode to the model volumes', () => {
    const water = sources.find((x) => x.name === 'water') as Source;
    // Each meter sends at its own minute after the hour: let the last hour's uplinks go out.
    const late = water.advance(START + 24 * HOUR + 55 * 60_000);
    const w = water.groundTruth() as { meters: { meter: number; volume_l: number }[] };
    const lastFrame = new Map<string, Outgoing>();
    for (const o of [...out, ...late]) if (o.topic.includes('000000000002')) lastFrame.set(o.topic, o);
    expect(lastFrame.size).toBe(3);
    const volumes = [...lastFrame.values()].map((o) => {
      const bytes = Buffer.from(o.body['data'] as string, 'base64');
      return (loraWaterMeterCodec.decodeUplink({ bytes, fPort: 100 }).data as { volume_l: number }).volume_l;
    });
    expect(volumes.sort()).toEqual(w.meters.map((m) => m.volume_l).sort());
  });

  it('chargers report the energy they delivered', () => {
    const c = truth['chargers'] as { sessions: number; delivered_wh: Record<string, number> };
    expect(c.sessions).toBeGreaterThan(0);
    const first = new Map<string, number>();
    const last = new Map<string, number>();
    for (const o of out.filter((x) => x.topic.endsWith('/MeterValues'))) {
      const id = o.topic.split('/')[1] as string;
      const mv = (o.body['meterValue'] as { sampledValue: { measurand: string; value: string }[] }[])[0];
      const wh = Number(mv?.sampledValue.find((s) => s.measurand === 'Energy.Active.Import.Register')?.value);
      if (!first.has(id)) first.set(id, wh);
      last.set(id, wh);
    }
    for (const [id, wh] of last) expect(Math.abs(wh - (first.get(id) as number) - (c.delivered_wh[id] ?? 0))).toBeLessThanOrEqual(7200 / 60 + 1);
  });
});
