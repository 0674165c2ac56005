import { describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import type { Store } from '../../../gateway/store/store.js';
import { HOUR, DAY, testConfig } from '../kpi/fixtures.js';
import { expected, type Parcel, type Retrieval } from '../kpi/transport-mqtt.js';
import { lateRig, type LateRig } from './rig.js';

/**
 * The batch-sync day of issue #19, through the real MQTT path: couriers' handhelds sync their
 * "delivered" events once an hour (after the next parcels' "arrived" events), and the garage's
 * second bay reports its hand-overs two minutes late. Every event is stored once, the parcel and
 * retrieval KPIs equal the simulators' ground truth exactly, and the same day sent in time order
 * gives the same events and the same KPIs. (With the old `reject` default, deliveries more than
 * five minutes older than the platform's newest event were refused.)
 */

const START = Date.parse('2024-11-22T00:00:00+08:00');
const END = START + DAY + 2 * HOUR;
const SPEED = 14_400; // 1 s = 4 simulated hours
const DEVICES = { lockers: { banks: 2, compartments: 40, parcels_per_day: 500 }, garage: { spaces: 60, lifts: 2 } };
const KPIS = ['parcel_to_door_time_p95', 'parcel_within_30min', 'car_retrieval_time_p95', 'car_retrieval_within_5min'];

async function day(late: boolean): Promise<LateRig> {
  const rig = await lateRig({ start: START, end: END, speed: SPEED, scenario: { ...DEVICES, ...(late ? { late: { parcel_sync: '1h', garage_bay_delay: '2m' } } : {}) } });
  while (rig.clock.now() < END) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 300)); // the last tick at END
  await rig.settle();
  return rig;
}

const events = (s: Store) =>
  s
    .eventsAfter(0, 1_000_000)
    .map((e) => JSON.stringify([e.ts, e.device, e.type, e.attributes]))
    .sort();

function kpis(s: Store) {
  const pass = new KpiPass(s.kpiReads(), END, calculatorOptions(testConfig()));
  return new Map(pass.compute(windowAt('day', START, 'Asia/Shanghai'), { site: true }, KPIS).map((r) => [r.kpi, r.value]));
}

describe('late data: the batch-sync day', () => {
  it('every event stored once; parcel and retrieval KPIs exact, and the same as the day sent in order', async () => {
    const [late, inOrder] = await Promise.all([day(true), day(false)]);
    try {
      // The late run really was late: deliveries were stored after newer arrivals of the same device.
      const stored = late.store.eventsAfter(0, 1_000_000);
      let lateDeliveries = 0;
      let newest = -Infinity;
      for (const e of stored.filter((x) => x.device === 'logistics-hub')) {
        if (e.ts < newest - 5 * 60_000 && e.type === 'parcel_delivered') lateDeliveries++;
        newest = Math.max(newest, e.ts);
      }
      expect(lateDeliveries).toBeGreaterThan(5);
      expect(await late.metric('fcgw_ingest_rejections_total', 'reason="out_of_order"')).toBe(0);

      // Every event once, and the same events as the day sent in time order.
      const truth = late.truth() as { lockers: { parcels: Parcel[]; reached_resident: number }; garage: { retrievals: Retrieval[] } };
      const reach = (p: Parcel) => p.picked_up ?? p.delivered;
      const completions = truth.lockers.parcels.filter((p) => (reach(p) ?? Infinity) <= END);
      expect(truth.lockers.reached_resident).toBe(completions.length);
      const count = (type: string) => stored.filter((e) => e.type === type).length;
      expect(count('parcel_arrived')).toBe(truth.lockers.parcels.filter((p) => p.arrived <= END).length);
      expect(count('parcel_delivered') + count('parcel_picked_up')).toBe(completions.length);
      expect(count('parcel_delivered')).toBeGreaterThan(10);
      expect(events(late.store)).toEqual(events(inOrder.store));

      // KPIs of the closed day against the ground truth, and identical to the in-order day.
      const d = windowAt('day', START, 'Asia/Shanghai');
      const ps = truth.lockers.parcels.filter((p) => p.arrived >= d.start && p.arrived < d.end);
      const done = ps.filter((p) => (reach(p) ?? Infinity) <= END);
      const parcel = expected(done.map((p) => (reach(p) as number) - p.arrived), ps.length - done.length, 1800);
      const rs = truth.garage.retrievals.filter((r) => r.requested >= d.start && r.requested < d.end);
      const doneR = rs.filter((r) => (r.completed ?? Infinity) <= END);
      const car = expected(doneR.map((r) => (r.completed as number) - r.requested), rs.length - doneR.length, 300);
      const got = kpis(late.store);
      expect(got.get('parcel_within_30min')).toBe(parcel.within);
      expect(got.get('parcel_to_door_time_p95')).toBe(parcel.p95);
      expect(got.get('car_retrieval_within_5min')).toBe(car.within);
      expect(got.get('car_retrieval_time_p95')).toBe(car.p95);
      expect(got).toEqual(kpis(inOrder.store));
      expect(ps.length).toBeGreaterThan(100);
      expect(rs.length).toBeGreaterThan(10);
    } finally {
      await Promise.all([late.stop(), inOrder.stop()]);
    }
  }, 60_000);
});
