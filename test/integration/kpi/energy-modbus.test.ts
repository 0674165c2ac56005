import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createKpiEngine } from '../../../gateway/kpi/index.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { Store } from '../../../gateway/store/store.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { truthBetween, type Mark } from '../../helpers/ground-truth.js';
import { StallFreeClock } from '../../helpers/stall-free-clock.js';

/**
 * The energy scene end to end at accelerated time: the coupled community model (sun, load,
 * battery, heat pumps with their tank, water draw) served over Modbus TCP and RTU over TCP → the
 * real gateway (Gateway.create: Modbus drivers, pipeline, SQLite store) → the KPI engine. One
 * simulated day (plus a quarter hour either side) runs in about 10 s; the day's KPIs must match
 * the models' exact ground truth, taken at the day's own edges, within 0.5 %.
 *
 * Why that is possible while polling: the counters are read every ~3 simulated minutes and the
 * KPI engine splits the step across midnight linearly; what the models did inside that one step
 * at each edge is the only error, a few hundredths of a percent of a day.
 */

const SPEED = 8640; // a day in 10 s
const POLL_MS = 20; // wall: ≈ 173 simulated seconds
const DAY_START = Date.parse('2024-04-15T00:00:00+08:00');
const RESIDENTS = 3100;

const t = tempDir('fcgw-kpi-modbus-');
afterAll(() => t.cleanup());

describe('energy simulators → Modbus → gateway → store → KPIs', () => {
  it('a simulated day: PV, self-consumption, self-sufficiency, SPF and water within 0.5 % of the ground truth', async () => {
    const [tcp, rtu, api] = [await freePort(), await freePort(), await freePort()];
    const scenario = join(t.dir, 'scenario.yaml');
    writeFileSync(
      scenario,
      `energy:
  step: 5s
  load_kw: 60
  cloudiness: 0.3
  endpoints:
    - name: plant
      framing: tcp
      port: ${tcp}
      units:
        - { unit: 1, profile: sunspec, sunspec: { models: [103, 160, 203], mppt: 2 }, devices: [{ id: pv-a, model: pv, kwp: 150 }, { id: grid, model: grid, invert: true }] }
        - { unit: 2, profile: sunspec, sunspec: { models: [103, 160], mppt: 3 }, devices: [{ id: pv-b, model: pv, kwp: 80 }] }
        - { unit: 3, profile: heat-pump-xyzz, devices: [{ id: hp-1, model: heat_pump, rated_kw: 60 }, { id: tank-1, model: tank, volume_m3: 6 }] }
        - { unit: 4, profile: heat-pump-xyzz, devices: [{ id: hp-2, model: heat_pump, rated_kw: 45 }] }
        - { unit: 5, profile: plain-ess, devices: [{ id: ess, model: battery, capacity_kwh: 150, power_kw: 50 }] }
    - name: water
      framing: rtu-over-tcp
      port: ${rtu}
      units:
        - { unit: 11, profile: modbus-water-meter, devices: [{ id: wm-a, model: water, kind: potable, m3_per_day: 320 }] }
        - { unit: 12, profile: modbus-water-meter, devices: [{ id: wm-b, model: water, kind: potable, m3_per_day: 40 }] }
        - { unit: 13, profile: modbus-water-meter, devices: [{ id: wm-r, model: water, kind: reclaimed, m3_per_day: 60 }] }
        - { unit: 14, profile: modbus-water-meter, devices: [{ id: wm-rain, model: water, kind: rainwater, m3_per_day: 15 }] }
`,
    );
    const dev = (id: string, cls: string, conn: string, profile: string, unit: number, extra = '') =>
      `  - { id: ${id}, class: ${cls}, connection: ${conn}, profile: ${profile}, unit: ${unit}, poll: ${POLL_MS}ms${extra} }`;
    const config = parseConfig(
      `version: 1
site: { id: kpi-modbus, timezone: Asia/Shanghai, residents: ${RESIDENTS}, latitude: 30.27, longitude: 120.15 }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${api} }
logging: { level: warn }
pipeline: { stale_after: 1h }
kpi: { max_gap: 1h, evaluate_every: 12h }
simulators: { enabled: true, speed: ${SPEED}, seed: 42, scenario: ${scenario} }
connections:
  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${tcp}, timeout: 1s, gap: 0ms, retries: 2, quarantine_min: 100ms, quarantine_max: 500ms }
  - { id: water, protocol: modbus-rtu-over-tcp, host: 127.0.0.1, port: ${rtu}, timeout: 1s, gap: 0ms, retries: 2, quarantine_min: 100ms, quarantine_max: 500ms }
devices:
${dev('pv-a', 'pv_inverter', 'plant', 'sunspec', 1)}
${dev('grid', 'grid_meter', 'plant', 'sunspec', 1, ', options: { invert: true }')}
${dev('pv-b', 'pv_inverter', 'plant', 'sunspec', 2)}
${dev('hp-1', 'heat_pump', 'plant', 'heat-pump-xyzz', 3)}
${dev('tank-1', 'thermal_storage', 'plant', 'heat-pump-xyzz', 3, ', options: { volume_m3: 6 }')}
${dev('hp-2', 'heat_pump', 'plant', 'heat-pump-xyzz', 4)}
${dev('ess', 'battery', 'plant', 'plain-ess', 5)}
${dev('wm-a', 'water_meter', 'water', 'modbus-water-meter', 11, ', tags: { water_type: potable }')}
${dev('wm-b', 'water_meter', 'water', 'modbus-water-meter', 12, ', tags: { water_type: potable }')}
${dev('wm-r', 'water_meter', 'water', 'modbus-water-meter', 13, ', tags: { water_type: reclaimed }')}
${dev('wm-rain', 'water_meter', 'water', 'modbus-water-meter', 14, ', tags: { water_type: rainwater }')}
`,
      'kpi-modbus.yaml',
      {},
    );
    const log = createLogger({ level: 'warn' });
    // Slower around both midnights: the counter steps that straddle them stay short when a loaded
    // machine slips polls (StallFreeClock).
    const clock = StallFreeClock.overDay(DAY_START, DAY_START + 86_400_000, SPEED);
    const gw = Gateway.create({ config, log, clock, processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
    await gw.start();
    clock.go();
    const day = windowAt('day', DAY_START, 'Asia/Shanghai');
    let marks: Mark[] = [];
    try {
      await waitFor(() => gw.clock.now() > day.end + 15 * 60_000, 20_000, 100);
      const health = gw.driverHealth();
      expect(health.flatMap((h) => h.devices).filter((d) => d.state !== 'online')).toEqual([]);
      const truth = gw.simulators?.groundTruth() ?? {};
      marks = (truth['energy-plant'] as { hourly: Mark[] }).hourly;
      const water = (truth['energy-water'] as { hourly: Mark[] }).hourly;
      for (const m of marks) Object.assign(m.devices, water.find((w) => w.ts === m.ts)?.devices ?? {});
      const c = health.map((h) => h.counters ?? {});
      console.log(`energy-modbus: ${c.reduce((n, x) => n + (x['polls'] ?? 0), 0)} polls, ${c.reduce((n, x) => n + (x['overruns'] ?? 0), 0)} overruns, ${c.reduce((n, x) => n + (x['timeout'] ?? 0), 0)} timeouts; ${Math.round(clock.lostMs)} ms of stalls kept out of simulated time`);
    } finally {
      clock.stop();
      await gw.stop();
    }

    // Ground truth over exactly [00:00, 24:00) local.
    const { a, b, d } = truthBetween(marks, day.start, day.end);
    const pv = d('pv-a', 'produced_wh') + d('pv-b', 'produced_wh');
    const imp = d('grid', 'imported_wh');
    const exp = d('grid', 'exported_wh');
    const load = pv + imp - exp + d('ess', 'discharged_wh') - d('ess', 'charged_wh');
    // The balance closes: what the meters see is the base load plus the heat pumps.
    const hpElec = d('hp-1', 'electricity_used_wh') + d('hp-2', 'electricity_used_wh');
    expect(load).toBeCloseTo((b.community['load_wh'] ?? 0) - (a.community['load_wh'] ?? 0) + hpElec, 3);
    const potable = d('wm-a', 'drawn_m3') + d('wm-b', 'drawn_m3');
    const other = d('wm-r', 'drawn_m3') + d('wm-rain', 'drawn_m3');
    const want: Record<string, number> = {
      pv_generation: pv,
      grid_import: imp,
      grid_export: exp,
      self_consumption: (pv - exp) / pv,
      self_sufficiency: (load - imp) / load,
      heat_pump_spf: (d('hp-1', 'heat_delivered_wh') + d('hp-2', 'heat_delivered_wh')) / hpElec,
      water_per_capita: (potable * 1000) / RESIDENTS,
      non_traditional_water_ratio: other / (potable + other),
    };
    // Sanity of the scenario itself: a spring day with sun, export, heating and all water types.
    expect(pv).toBeGreaterThan(500_000);
    expect(exp).toBeGreaterThan(20_000);
    expect(want['heat_pump_spf']).toBeGreaterThan(2);
    expect(other).toBeGreaterThan(10);

    // The store is read back by a KPI engine of its own, as `fcgw report` does.
    const store = Store.open({ path: config.store.path, site: config.site.id, clock: { now: () => day.end + 3_600_000 }, log });
    try {
      const kpi = createKpiEngine({ config, store, clock: { now: () => day.end + 3_600_000 }, log });
      const rows = new Map(kpi.kpis('day', day.start).filter((r) => r.scope === 'site').map((r) => [r.kpi, r]));
      const rel = (name: string) => Math.abs((rows.get(name)?.value ?? NaN) - (want[name] as number)) / Math.abs(want[name] as number);
      console.log(`energy-modbus KPI error vs ground truth: ${Object.keys(want).map((k) => `${k} ${(100 * rel(k)).toFixed(3)} %`).join(', ')}`);
      for (const name of Object.keys(want)) {
        expect(rel(name), `${name}: KPI ${rows.get(name)?.value} vs truth ${want[name]}`).toBeLessThan(0.005);
        expect(rows.get(name)?.coverage, `${name} coverage`).toBeGreaterThan(0.99);
      }
      kpi.stop();
    } finally {
      store.close();
    }
  }, 40_000);
});
