import { afterAll, describe, expect, it } from 'vitest';
import { crossSectionProblems } from '../../../gateway/config/schema.js';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import type { Reading } from '../../../gateway/model/types.js';
import { Fixture, MIN, testConfig } from './fixtures.js';

/**
 * The 10-minute transit circle from config alone, checked against values worked out by hand, and
 * shared-parking utilisation from real space sensors through the store.
 */

const TZ = 'Asia/Shanghai';
const at = (local: string) => Date.parse(`${local}+08:00`);

/**
 * Stop east-gate at (30.2700, 120.1500) with line 12; stop north-lane 100 m from building B but
 * without a line (it does not count). Defaults: 1.2 m/s, detour 1.3.
 *  A 100 households, surveyed path 540 m to east-gate: 450 s (within 600)
 *  B  60 households, surveyed path 780 m: 650 s (beyond)
 *  C  40 households, entrance 0.004° due north of east-gate, no path: the straight line is
 *     0.004 × π/180 × 6 371 008.8 m = 444.79 m, × 1.3 / 1.2 = 481.86 s (within)
 *  D  50 households, 0.01° north, no path: 1 111.97 m × 1.3 / 1.2 = 1 204.64 s (beyond)
 * Share within 10 minutes: (100 + 40) / 250 = 0.56.
 * p95 by households: rank ⌈0.95 × 250⌉ = 238; cumulative 100 (A), 140 (C), 200 (B), 250 (D): D's 1 204.64 s.
 */
const TRANSIT = {
  buildings: [
    { id: 'A', households: 100, entrance: { lat: 30.2650, lon: 120.1450 } },
    { id: 'B', households: 60, entrance: { lat: 30.2600, lon: 120.1400 } },
    { id: 'C', households: 40, entrance: { lat: 30.2740, lon: 120.1500 } },
    { id: 'D', households: 50, entrance: { lat: 30.2800, lon: 120.1500 } },
  ],
  stops: [
    { id: 'east-gate', name: '莲花东门', location: { lat: 30.27, lon: 120.15 }, lines: ['12'], mode: 'bus' },
    { id: 'north-lane', name: '北巷', location: { lat: 30.2609, lon: 120.14 }, lines: [], mode: 'bus' },
  ],
  walking_paths: [
    { building: 'A', stop: 'east-gate', length: 540 },
    { building: 'B', stop: 'east-gate', length: 780 },
  ],
};

const fx = new Fixture([
  { id: 'sp-1', class: 'parking_space', tags: { zone: 'shared' } },
  { id: 'sp-2', class: 'parking_space', tags: { zone: 'shared' } },
  { id: 'sp-3', class: 'parking_space', tags: { zone: 'private' } },
]);
afterAll(() => fx.close());

function compute(cfg: ReturnType<typeof testConfig>, day: string, names: string[], scope: { site: true } | { tag: string; value: string } = { site: true }, now = at(`${day}T23:59:59`) + 1000) {
  const pass = new KpiPass(fx.store.kpiReads(), now, calculatorOptions(cfg));
  return new Map(pass.compute(windowAt('day', at(`${day}T12:00:00`), TZ), scope, names).map((r) => [r.kpi, r]));
}

describe('transit access (10-minute circle)', () => {
  const cfg = testConfig({ transit: TRANSIT });

  it('is the share of households within 600 s of a stop with a line, as worked out by hand', () => {
    const r = compute(cfg, '2024-03-04', ['transit_access_10min', 'transit_walk_time_p95']);
    expect(r.get('transit_access_10min')?.value).toBe(0.56);
    expect(r.get('transit_access_10min')?.coverage).toBe(1);
    expect(r.get('transit_access_10min')?.detail).toMatchObject({ households: 250, within_10min: 140 });
    expect(r.get('transit_walk_time_p95')?.value).toBeCloseTo(1204.64, 1);
  });

  it('follows the defaults: a faster walk or a straighter street moves buildings into the circle', () => {
    // At 2 m/s: A 270 s, B 390 s, C 289 s, D 722.8 s: (100 + 60 + 40) / 250.
    const fast = compute(testConfig({ transit: { ...TRANSIT, walking_speed: 2 } }), '2024-03-04', ['transit_access_10min']);
    expect(fast.get('transit_access_10min')?.value).toBe(0.8);
  });

  it('narrows to one building for a building-tag scope, and is unknown without buildings', () => {
    expect(compute(cfg, '2024-03-04', ['transit_access_10min'], { tag: 'building', value: 'B' }).get('transit_access_10min')?.value).toBe(0);
    expect(compute(testConfig(), '2024-03-04', ['transit_access_10min']).get('transit_access_10min')?.value).toBeNull();
  });

  it('refuses paths to unknown buildings or stops, and stop boards that are not transit stops', () => {
    const bad = testConfig({
      connections: [{ id: 'm', protocol: 'mqtt', url: 'embedded' }],
      devices: [{ id: 'sp-9', class: 'parking_space', connection: 'm', profile: 'parking-sensor' }],
      transit: { ...TRANSIT, stops: [{ ...TRANSIT.stops[0], devices: ['sp-9'] }], walking_paths: [{ building: 'Z', stop: 'nowhere', length: 10 }], shared_parking: [{ id: 'p', spaces: ['sp-9'], windows: [{ from: '18:00', to: '08:00' }] }] },
    });
    const msgs = crossSectionProblems(bad).map((p) => `${p.path.join('.')}: ${p.message}`);
    expect(msgs).toEqual(
      expect.arrayContaining([
        'transit.stops.0.devices.0: device "sp-9" is a parking_space, not a transit_stop',
        'transit.walking_paths.0.building: no building "Z" in transit.buildings',
        'transit.walking_paths.0.stop: no stop "nowhere" in transit.stops',
        expect.stringMatching(/^transit\.shared_parking\.0\.windows\.0: "from" \(18:00\) must be before "to"/),
      ]),
    );
  });
});

describe('shared parking utilisation', () => {
  // Monday 4 March 2024. Shared on weekdays 08:00–18:00 (600 min per space, 1 200 for two).
  // sp-1 occupied 09:00–12:00 (180 min) and 19:00–21:00 (outside); sp-2 occupied 07:00–10:00
  // (120 min inside); sp-3 (not shared) always occupied. Utilisation: 300 / 1 200 = 0.25.
  const day = '2024-03-04';
  const readings: Reading[] = [];
  const states = (device: string, changes: [string, boolean][]) => {
    // A reading every 10 minutes (the sensors' heartbeat), value from the last change.
    for (let t = at(`${day}T00:00:00`); t < at(`${day}T23:59:59`); t += 10 * MIN) {
      let v = false;
      for (const [time, val] of changes) if (at(`${day}T${time}:00`) <= t) v = val;
      readings.push({ device, metric: 'occupied', value: v, ts: t });
    }
  };
  states('sp-1', [['09:00', true], ['12:00', false], ['19:00', true], ['21:00', false]]);
  states('sp-2', [['07:00', true], ['10:00', false]]);
  states('sp-3', [['00:00', true]]);
  fx.write(readings);
  const shared = { ...TRANSIT, shared_parking: [{ id: 'visitors', spaces: { tag: 'zone', value: 'shared' }, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }] }] };

  it('is the occupied share of the shared spaces inside the sharing windows', () => {
    const r = compute(testConfig({ transit: shared }), day, ['shared_parking_utilisation']).get('shared_parking_utilisation');
    expect(r?.value).toBeCloseTo(0.25, 6);
    expect(r?.coverage).toBeCloseTo(1, 6);
  });

  it('has no window on a day the spaces are not shared', () => {
    const weekend = { ...shared, shared_parking: [{ ...shared.shared_parking[0], windows: [{ days: ['sat', 'sun'], from: '08:00', to: '18:00' }] }] };
    expect(compute(testConfig({ transit: weekend }), day, ['shared_parking_utilisation']).get('shared_parking_utilisation')?.value).toBeNull();
  });
});
