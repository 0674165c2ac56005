import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import type { Decision } from '../../../gateway/control/surplus.js';
import { createKpiEngine } from '../../../gateway/kpi/index.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { Store } from '../../../gateway/store/store.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { truthBetween, type Mark } from '../../helpers/ground-truth.js';
import { StallFreeClock } from '../../helpers/stall-free-clock.js';

/**
 * A sunny summer day, simulated twice with the same seed: surplus control off, then on. The
 * community (150 kWp PV, 60 kW base load, a 100 kWh battery, two heat pumps each with a 20 m³
 * buffer tank) is served over Modbus TCP; with surplus control on, the gateway itself sets SG Ready
 * and the battery through the control service. Self-consumption must rise, measured from the
 * simulators' ground truth and from the gateway's own KPIs; no comfort or SoC bound may be broken
 * by a decision, and SG Ready may change no more often than its dwell allows.
 */

const SPEED = 8640; // a day in 10 s
const POLL_MS = 20;
const DAY_START = Date.parse('2024-07-15T00:00:00+08:00');
const DWELL_MS = 10 * 60_000;
const TANK_MAX_C = 57;
const SOC_MAX = 90;

const t = tempDir('fcgw-surplus-');
afterAll(() => t.cleanup());

interface DayResult {
  truth: number;
  kpi: number;
  decisions: readonly Decision[];
  sgChanges: { device: string; ts: number; value: string }[];
  tankMax: number;
}

async function day(name: string, surplus: boolean): Promise<DayResult> {
  const dir = join(t.dir, name);
  const [tcp, api] = [await freePort(), await freePort()];
  const scenario = join(t.dir, `${name}-scenario.yaml`);
  writeFileSync(
    scenario,
    `energy:
  step: 5s
  load_kw: 60
  cloudiness: 0.1
  endpoints:
    - name: plant
      framing: tcp
      port: ${tcp}
      units:
        - { unit: 1, profile: sunspec, sunspec: { models: [103, 160, 203], mppt: 2 }, devices: [{ id: pv-a, model: pv, kwp: 150 }, { id: grid, model: grid, invert: true }] }
        - { unit: 3, profile: heat-pump-xyzz, devices: [{ id: hp-1, model: heat_pump, rated_kw: 40 }, { id: tank-1, model: tank, volume_m3: 20 }] }
        - { unit: 4, profile: heat-pump-xyzz, devices: [{ id: hp-2, model: heat_pump, rated_kw: 40 }, { id: tank-2, model: tank, volume_m3: 20 }] }
        - { unit: 5, profile: plain-ess, devices: [{ id: ess, model: battery, capacity_kwh: 100, power_kw: 50 }] }
`,
  );
  const dev = (id: string, cls: string, profile: string, unit: number, extra = '') => `  - { id: ${id}, class: ${cls}, connection: plant, profile: ${profile}, unit: ${unit}, poll: ${POLL_MS}ms${extra} }`;
  const config = parseConfig(
    `version: 1
site: { id: surplus-${name}, timezone: Asia/Shanghai, latitude: 30.27, longitude: 120.15 }
store: { path: ${join(t.dir, `${name}.db`)} }
api: { host: 127.0.0.1, port: ${api} }
logging: { level: warn }
pipeline: { stale_after: 1h }
kpi: { max_gap: 1h, evaluate_every: 12h }
simulators: { enabled: true, speed: ${SPEED}, seed: 42, scenario: ${scenario} }
connections:
  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${tcp}, timeout: 1s, gap: 0ms, retries: 2, quarantine_min: 100ms, quarantine_max: 500ms }
devices:
${dev('pv-a', 'pv_inverter', 'sunspec', 1)}
${dev('grid', 'grid_meter', 'sunspec', 1, ', options: { invert: true }')}
${dev('hp-1', 'heat_pump', 'heat-pump-xyzz', 3)}
${dev('tank-1', 'thermal_storage', 'heat-pump-xyzz', 3, ', options: { volume_m3: 20 }')}
${dev('hp-2', 'heat_pump', 'heat-pump-xyzz', 4)}
${dev('tank-2', 'thermal_storage', 'heat-pump-xyzz', 4, ', options: { volume_m3: 20 }')}
${dev('ess', 'battery', 'plain-ess', 5, ', options: { rated_power_w: 50000 }')}
control:
  surplus:
    enabled: ${surplus}
    grid_meter: grid
    export_w: 5000
    import_w: 2000
    for: 10m
    every: 1m
    heat_pumps: [{ device: hp-1, tank: tank-1, max_c: ${TANK_MAX_C} }, { device: hp-2, tank: tank-2, max_c: ${TANK_MAX_C} }]
    batteries: [{ device: ess, soc_max: ${SOC_MAX}, soc_min: 20, charge_w: 50000 }]
`,
    `${name}.yaml`,
    {},
  );
  void dir;
  const log = createLogger({ level: 'warn' });
  // Slower around both midnights: the counter steps that straddle them stay short when a loaded
  // machine slips polls (StallFreeClock).
  const clock = StallFreeClock.overDay(DAY_START, DAY_START + 86_400_000, SPEED);
  const gw = Gateway.create({ config, log, clock, processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
  await gw.start();
  clock.go();
  const w = windowAt('day', DAY_START, 'Asia/Shanghai');
  let marks: Mark[] = [];
  let decisions: readonly Decision[] = [];
  let sgChanges: DayResult['sgChanges'] = [];
  try {
    await waitFor(() => gw.clock.now() > w.end + 15 * 60_000, 30_000, 100);
    marks = ((gw.simulators?.groundTruth() ?? {})['energy-plant'] as { hourly: Mark[] }).hourly;
    decisions = [...(gw.surplus?.decisions() ?? [])];
    sgChanges = (gw.control?.audit.list({ limit: 1000 }) ?? [])
      .filter((r) => r.command === 'sg_ready' && r.status === 'succeeded')
      .map((r) => ({ device: r.device, ts: r.ts, value: JSON.parse(r.value) as string }))
      .reverse();
  } finally {
    clock.stop();
    await gw.stop();
  }
  const { d } = truthBetween(marks, w.start, w.end);
  const pv = d('pv-a', 'produced_wh');
  const truth = (pv - d('grid', 'exported_wh')) / pv;
  const store = Store.open({ path: config.store.path, site: config.site.id, clock: { now: () => w.end + 3_600_000 }, log });
  try {
    const kpi = createKpiEngine({ config, store, clock: { now: () => w.end + 3_600_000 }, log });
    const row = kpi.kpis('day', w.start).find((r) => r.scope === 'site' && r.kpi === 'self_consumption');
    kpi.stop();
    const tankMax = Math.max(...['tank-1', 'tank-2'].flatMap((id) => store.reads.rawSeries(id, 'top_temp', w.start, w.end).map((p) => Number(p[1]))));
    return { truth, kpi: row?.value ?? NaN, decisions, sgChanges, tankMax };
  } finally {
    store.close();
  }
}

describe('surplus control on a sunny summer day', () => {
  it('raises self-consumption (ground truth and KPIs), breaks no comfort or SoC bound, and SG Ready keeps its dwell', async () => {
    const off = await day('off', false);
    const on = await day('on', true);
    console.log(
      `surplus control, sunny day, seed 42: self-consumption off ${(100 * off.truth).toFixed(2)} % (KPI ${(100 * off.kpi).toFixed(2)} %), on ${(100 * on.truth).toFixed(2)} % (KPI ${(100 * on.kpi).toFixed(2)} %); ${on.decisions.length} decisions, ${on.sgChanges.length} SG Ready changes; tank top max ${on.tankMax} °C`,
    );
    expect(off.decisions).toEqual([]);
    expect(on.truth).toBeGreaterThan(off.truth + 0.03);
    expect(on.kpi).toBeGreaterThan(off.kpi + 0.03);
    // The KPIs agree with the truth in both runs.
    expect(Math.abs(on.kpi - on.truth)).toBeLessThan(0.005);
    expect(Math.abs(off.kpi - off.truth)).toBeLessThan(0.005);
    // Every decision has its reason; none raised a heat pump at its comfort bound or charged at the SoC bound.
    expect(on.decisions.every((x) => x.reason.length > 0)).toBe(true);
    for (const x of on.decisions) {
      if (x.command === 'sg_ready' && x.value === 'recommend') expect(x.inputs['tank'] ?? 0).toBeLessThan(TANK_MAX_C);
      if ((x.command === 'remote_control' && x.value === true) || (x.command === 'power_setpoint' && Number(x.value) > 0)) expect(x.inputs['soc'] ?? 100).toBeLessThan(SOC_MAX);
    }
    expect(on.tankMax).toBeLessThanOrEqual(TANK_MAX_C + 1);
    // SG Ready changed, and never sooner than the dwell after the previous change of the same pump.
    expect(on.sgChanges.length).toBeGreaterThanOrEqual(2);
    for (const id of ['hp-1', 'hp-2']) {
      const changes = on.sgChanges.filter((c) => c.device === id).filter((c, i, all) => i === 0 || c.value !== all[i - 1]?.value);
      for (let i = 1; i < changes.length; i++) expect((changes[i]?.ts ?? 0) - (changes[i - 1]?.ts ?? 0)).toBeGreaterThanOrEqual(DWELL_MS);
    }
  }, 90_000);
});
