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
 * The Chinese metering standards end to end at accelerated time: household electricity meters
 * on a DL/T 645 bus and water meters (a master and two sub-meters) on a CJ/T 188 bus, each behind
 * a simulated serial-device server, fed by the coupled community model → the real gateway (bus
 * drivers, pipeline, SQLite) → the KPI engine. One simulated day; the day's grid import, water
 * per capita and water loss must match the models' ground truth within 0.5 %, though the meters
 * round to 0.01 kWh and 0.01 m³ as real ones do. (A dead meter's timeouts are tested in real
 * time in test/integration/meters: at 8640× a 200 ms timeout would be half an hour of the day.)
 */

const SPEED = 8640; // a day in 10 s
const POLL_MS = 20; // wall: ≈ 173 simulated seconds
const DAY_START = Date.parse('2024-04-15T00:00:00+08:00');
const RESIDENTS = 3100;

const t = tempDir('fcgw-kpi-meters-');
afterAll(() => t.cleanup());

describe('DL/T 645 and CJ/T 188 buses → gateway → store → KPIs', () => {
  it('a simulated day: household import, water per capita and water loss within 0.5 % of the ground truth', async () => {
    const [bus_e, bus_w, api] = [await freePort(), await freePort(), await freePort()];
    const scenario = join(t.dir, 'scenario.yaml');
    writeFileSync(
      scenario,
      `energy:
  step: 5s
  load_kw: 60
  buses:
    - name: bus-e
      protocol: dlt645
      port: ${bus_e}
      baud: 0
      meters:
        - { address: "330100000001", device: { id: em-1, model: household, mean_kw: 0.9 } }
        - { address: "330100000002", device: { id: em-2, model: household, mean_kw: 1.4 } }
        - { address: "330100000003", device: { id: em-3, model: household, mean_kw: 0.6 } }
    - name: bus-w
      protocol: cjt188
      port: ${bus_w}
      baud: 0
      meters:
        - { address: "00000000000011", device: { id: wm-main, model: water, kind: potable, m3_per_day: 320 } }
        - { address: "00000000000012", device: { id: wm-b1, model: water, kind: potable, m3_per_day: 150 } }
        - { address: "00000000000013", device: { id: wm-b2, model: water, kind: potable, m3_per_day: 140 } }
`,
    );
    const config = parseConfig(
      `version: 1
site: { id: kpi-meters, timezone: Asia/Shanghai, residents: ${RESIDENTS}, latitude: 30.27, longitude: 120.15 }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${api} }
logging: { level: warn }
pipeline: { stale_after: 1h }
kpi: { max_gap: 1h, evaluate_every: 12h }
simulators: { enabled: true, speed: ${SPEED}, seed: 7, scenario: ${scenario} }
connections:
  - { id: bus-e, protocol: dlt645, host: 127.0.0.1, port: ${bus_e}, timeout: 200ms, gap: 0ms, retries: 1, quarantine_min: 2s, quarantine_max: 5s }
  - { id: bus-w, protocol: cjt188, host: 127.0.0.1, port: ${bus_w}, timeout: 200ms, gap: 0ms, retries: 1 }
devices:
  - { id: em-1, class: grid_meter, connection: bus-e, address: "330100000001", profile: dlt645-meter, poll: ${POLL_MS}ms }
  - { id: em-2, class: grid_meter, connection: bus-e, address: "330100000002", profile: dlt645-meter, poll: ${POLL_MS}ms }
  - { id: em-3, class: grid_meter, connection: bus-e, address: "330100000003", profile: dlt645-meter, poll: ${POLL_MS}ms }
  - { id: wm-main, class: water_meter, connection: bus-w, address: "00000000000011", profile: cjt188-water-meter, poll: ${POLL_MS}ms, tags: { water_type: potable, role: master } }
  - { id: wm-b1, class: water_meter, connection: bus-w, address: "00000000000012", profile: cjt188-water-meter, poll: ${POLL_MS}ms, tags: { water_type: potable, role: sub } }
  - { id: wm-b2, class: water_meter, connection: bus-w, address: "00000000000013", profile: cjt188-water-meter, poll: ${POLL_MS}ms, tags: { water_type: potable, role: sub } }
`,
      'kpi-meters.yaml',
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
      const states = Object.fromEntries(health.flatMap((h) => h.devices).map((d) => [d.id, d.state]));
      expect(states).toEqual({ 'em-1': 'online', 'em-2': 'online', 'em-3': 'online', 'wm-main': 'online', 'wm-b1': 'online', 'wm-b2': 'online' });
      const truth = gw.simulators?.groundTruth() ?? {};
      marks = (truth['meters-bus-e'] as { hourly: Mark[] }).hourly;
      const water = (truth['meters-bus-w'] as { hourly: Mark[] }).hourly;
      for (const m of marks) Object.assign(m.devices, water.find((w) => w.ts === m.ts)?.devices ?? {});
      const c = health.map((h) => h.counters ?? {});
      console.log(`energy-meters: ${c.reduce((n, x) => n + (x['polls'] ?? 0), 0)} polls, ${c.reduce((n, x) => n + (x['timeouts'] ?? 0), 0)} timeouts; ${Math.round(clock.lostMs)} ms of stalls kept out of simulated time`);
    } finally {
      clock.stop();
      await gw.stop();
    }

    const { d } = truthBetween(marks, day.start, day.end);
    const imp = d('em-1', 'imported_wh') + d('em-2', 'imported_wh') + d('em-3', 'imported_wh');
    const master = d('wm-main', 'drawn_m3');
    const subs = d('wm-b1', 'drawn_m3') + d('wm-b2', 'drawn_m3');
    const want: Record<string, number> = {
      grid_import: imp,
      water_per_capita: (master * 1000) / RESIDENTS,
      water_loss_ratio: (master - subs) / master,
    };
    expect(imp).toBeGreaterThan(50_000);
    expect(want['water_loss_ratio']).toBeGreaterThan(0.01);

    const store = Store.open({ path: config.store.path, site: config.site.id, clock: { now: () => day.end + 3_600_000 }, log });
    try {
      const kpi = createKpiEngine({ config, store, clock: { now: () => day.end + 3_600_000 }, log });
      const rows = new Map(kpi.kpis('day', day.start).filter((r) => r.scope === 'site').map((r) => [r.kpi, r]));
      const rel = (name: string) => Math.abs((rows.get(name)?.value ?? NaN) - (want[name] as number)) / Math.abs(want[name] as number);
      console.log(`energy-meters KPI error vs ground truth: ${Object.keys(want).map((k) => `${k} ${(100 * rel(k)).toFixed(3)} %`).join(', ')}`);
      for (const name of Object.keys(want)) expect(rel(name), `${name}: KPI ${rows.get(name)?.value} vs truth ${want[name]}`).toBeLessThan(0.005);
      kpi.stop();
    } finally {
      store.close();
    }
  }, 40_000);
});
