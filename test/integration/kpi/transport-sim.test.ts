import { afterAll, describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import { Fixture, HOUR, testConfig } from './fixtures.js';
import { expected, reported, transportRig, type Parcel } from './transport-mqtt.js';

/**
 * Ground truth from the transport simulators running in real time (accelerated 3600×): the
 * garage, lockers and doors publish over a real MQTT broker, the MQTT driver decodes them, the
 * pipeline stores them, and the event KPIs of the (closed) day equal what the simulators
 * recorded, exactly. No faults are injected: nothing is lost. The month is in transport-month.
 */

const fx = new Fixture();
afterAll(() => fx.close());

describe('transport simulators → MQTT → store → KPIs', () => {
  it('event KPIs of the day equal the simulators’ ground truth', async () => {
    const start = Date.parse('2024-11-22T06:00:00+08:00');
    const rig = await transportRig(fx, () => new AcceleratedClock(start, 3600), { speed: 3600, tick: '100ms', parcelsPerDay: 600, doors: 6 });
    try {
      await new Promise((r) => setTimeout(r, 5_000)); // ~5 simulated hours: the morning
      await rig.settle();
    } finally {
      await rig.stop();
    }

    const truth = rig.truth();
    const day = windowAt('day', start, 'Asia/Shanghai');
    const pass = new KpiPass(fx.store.kpiReads(), day.end + HOUR, calculatorOptions(testConfig()));
    const got = new Map(pass.compute(day, { site: true }).map((r) => [r.kpi, r]));

    const rs = truth.garage.retrievals.filter((r) => r.requested >= day.start && r.requested < day.end);
    const doneR = reported(rs, (r) => r.completed, truth.garage.completed);
    expect(rs.length).toBeGreaterThan(20);
    const car = expected([...doneR].map((r) => (r.completed as number) - r.requested), rs.length - doneR.size, 300);
    expect(car.p95).not.toBeNull();
    expect(got.get('car_retrieval_time_p95')?.value).toBe(car.p95);
    expect(got.get('car_retrieval_within_5min')?.value).toBe(car.within);
    expect(got.get('car_retrieval_time_p95')?.open).toBe(rs.length - doneR.size);

    const ps = truth.lockers.parcels.filter((p) => p.arrived >= day.start && p.arrived < day.end);
    const reach = (p: Parcel) => p.picked_up ?? p.delivered;
    const doneP = reported(ps, reach, truth.lockers.reached_resident);
    expect(ps.length).toBeGreaterThan(50);
    const parcel = expected([...doneP].map((p) => (reach(p) as number) - p.arrived), ps.length - doneP.size, 1800);
    expect(got.get('parcel_within_30min')?.value).toBe(parcel.within);
    expect(got.get('parcel_to_door_time_p95')?.value).toBe(parcel.p95);
    // Most parcels wait for residents coming home in the evening: at the p95 rank they are still open.
    expect(got.get('parcel_to_door_time_p95')?.beyond ?? false).toBe(parcel.p95 === null);

    const d = truth.doors;
    expect(got.get('access_denied_rate')?.value).toBe(d.denied / (d.granted + d.denied));
    expect(got.get('door_forced_count')?.value).toBe(d.forced);
    expect(got.get('door_held_open_count')?.value).toBe(d.held_open);
  }, 40_000);
});
