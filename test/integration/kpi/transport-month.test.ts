import { afterAll, describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt, type KpiWindowSpan } from '../../../gateway/kpi/windows.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { DAY, Fixture, HOUR, testConfig } from './fixtures.js';
import { expected, reported, transportRig, type Parcel, type TransportRig, type TransportTruth } from './transport-mqtt.js';

/**
 * A simulated month at high speed through the real protocols: the transport simulators publish
 * over a real MQTT broker into the MQTT driver and the store, as fast as that path carries them
 * (the simulated clock is stepped, and each step waits until the broker acknowledged it). The
 * event KPIs of the local month (Asia/Shanghai) equal the simulators' ground truth exactly;
 * events just before and after the month, and parcels still waiting when the month closed
 * (counted against it), are part of the run.
 */

const TZ = 'Asia/Shanghai';
const NOV = windowAt('month', Date.parse('2024-11-15T00:00:00+08:00'), TZ);
const START = NOV.start - 6 * HOUR;
const END = NOV.end + 12 * HOUR;
const STEP = 3 * HOUR;

const fx = new Fixture();
const clock = new ManualClock(START);
let rig: TransportRig | undefined;
afterAll(async () => {
  await rig?.stop();
  fx.close();
});

type Doors = TransportTruth['doors'];
const doorsAt = new Map<number, Doors>();

/** Step the clock to `to`, publishing as it goes; door counts are kept at the month's edges. */
async function run(r: TransportRig, to: number): Promise<void> {
  while (clock.now() < to) {
    const next = Math.min(to, clock.now() + STEP);
    // Stop exactly on the month's edges, to take the door counters there.
    const edge = [NOV.start, NOV.end].find((e) => e > clock.now() && e < next);
    clock.set(edge ?? next);
    for (const g of r.groups) g.tick();
    if ([NOV.start, NOV.end].includes(clock.now())) doorsAt.set(clock.now(), { ...r.truth().doors });
    await Promise.all(r.groups.map((g) => g.drain(10_000)));
  }
}

function compute(w: KpiWindowSpan, names?: string[]) {
  const pass = new KpiPass(fx.store.kpiReads(), END + HOUR, calculatorOptions(testConfig()));
  return new Map(pass.compute(w, { site: true }, names).map((x) => [x.kpi, x]));
}

describe('a simulated month through MQTT', () => {
  it('event KPIs of the local month equal the simulators’ ground truth', async () => {
    rig = await transportRig(fx, () => clock, { speed: 1, tick: '1h', parcelsPerDay: 100, doors: 1 });
    await run(rig, END);
    await rig.settle();
    await rig.stop();

    const truth = rig.truth();
    const got = compute(NOV);
    const inMonth = (t: number) => t >= NOV.start && t < NOV.end;

    const rs = truth.garage.retrievals.filter((r) => inMonth(r.requested));
    expect(truth.garage.retrievals.some((r) => r.requested < NOV.start)).toBe(true);
    expect(truth.garage.retrievals.some((r) => r.requested >= NOV.end)).toBe(true);
    const doneR = reported(rs, (r) => r.completed, truth.garage.completed);
    const car = expected([...doneR].map((r) => (r.completed as number) - r.requested), rs.length - doneR.size, 300);
    expect(rs.length).toBeGreaterThan(500);
    expect(car.p95).not.toBeNull();
    expect(got.get('car_retrieval_time_p95')?.value).toBe(car.p95);
    expect(got.get('car_retrieval_within_5min')?.value).toBe(car.within);
    expect(got.get('car_retrieval_time_p95')?.open).toBe(rs.length - doneR.size);

    const ps = truth.lockers.parcels.filter((p) => inMonth(p.arrived));
    const reach = (p: Parcel) => p.picked_up ?? p.delivered;
    const doneP = reported(ps, reach, truth.lockers.reached_resident);
    const open = ps.length - doneP.size;
    const parcel = expected([...doneP].map((p) => (reach(p) as number) - p.arrived), open, 1800);
    expect(ps.length).toBeGreaterThan(2000);
    // Parcels still waiting when the month closed count against it.
    expect(open).toBeGreaterThan(0);
    expect(got.get('parcel_within_30min')?.value).toBe(parcel.within);
    expect(got.get('parcel_to_door_time_p95')?.value).toBe(parcel.p95);
    expect(got.get('parcel_to_door_time_p95')?.beyond ?? false).toBe(parcel.p95 === null);
    expect(got.get('parcel_within_30min')?.open).toBe(open);

    const a = doorsAt.get(NOV.start) as Doors;
    const b = doorsAt.get(NOV.end) as Doors;
    const granted = b.granted - a.granted;
    const denied = b.denied - a.denied;
    expect(granted + denied).toBeGreaterThan(1000);
    expect(got.get('access_denied_rate')?.value).toBe(denied / (granted + denied));
    expect(got.get('door_forced_count')?.value).toBe(b.forced - a.forced);
    expect(got.get('door_held_open_count')?.value).toBe(b.held_open - a.held_open);

    // The days add up to the month (a day and the month are cut at the same local midnights).
    let days = 0;
    for (let t = NOV.start; t < NOV.end; t += DAY) days += compute(windowAt('day', t, TZ), ['door_held_open_count']).get('door_held_open_count')?.value ?? 0;
    expect(days).toBe(b.held_open - a.held_open);
  }, 60_000);
});
