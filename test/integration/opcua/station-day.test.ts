import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import type { Clock } from '../../../gateway/model/clock.js';
import type { StationGroup, Totals } from '../../../simulators/opcua/index.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { station, stationScenario } from './harness.js';
import { rawSeries } from '../../../gateway/store/queries.js';

/**
 * A simulated day at the energy station, through the whole gateway: the simulator runs a day in
 * about six seconds, the driver keeps every change the server pushes (exception-based monitored
 * items with queues), the pipeline stores it, and the KPI engine computes the heat pumps' SPF from
 * the stored counters — which must agree with the simulator's exact ground truth within 0.5 %.
 */

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TZ = 'Asia/Shanghai';
const SPEED = 14_400;

/** Simulated time held at `start` until `go()`, then running `speed` times faster than real time. */
class GatedClock implements Clock {
  private wall0: number | undefined;
  constructor(
    private readonly start: number,
    private readonly speed: number,
  ) {}
  go(): void {
    this.wall0 = Date.now();
  }
  now(): number {
    return this.wall0 === undefined ? this.start : this.start + (Date.now() - this.wall0) * this.speed;
  }
}

const tmp = tempDir('fcgw-opcua-day-');
// The local day that ended before yesterday: samples stamped in the past, as a replayed PLC log would be.
const day = windowAt('day', Date.now() - 2 * DAY, TZ);
const clock = new GatedClock(day.start - 10 * 60_000, SPEED);
let sim: StationGroup;
let gw: Gateway;

const PUMPS = ['st-hp-1', 'st-hp-2', 'st-hp-3'];

beforeAll(async () => {
  const port = await freePort();
  const scenario = stationScenario(port, {
    heat_pumps: [
      { id: PUMPS[0], folder: 'HP1', rated_kw: 90 },
      { id: PUMPS[1], folder: 'HP2', rated_kw: 90 },
      { id: PUMPS[2], folder: 'HP3', rated_kw: 60 },
    ],
  });
  sim = station(scenario, clock, SPEED);
  await sim.start();
  const devices = [
    ...PUMPS.map((id, i) => `  - { id: ${id}, class: heat_pump, connection: station, profile: energy-station, options: { folder: HP${i + 1} } }`),
    '  - { id: st-tank, class: thermal_storage, connection: station, profile: energy-station, options: { folder: Tank } }',
    '  - { id: st-heat, class: heat_meter, connection: station, profile: energy-station, options: { folder: HeatMeter } }',
  ].join('\n');
  const config = parseConfig(
    `version: 1
site: { id: station-day, timezone: ${TZ} }
store: { path: ${join(tmp.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0 }
logging: { level: warn }
connections: [{ id: station, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:${port}", timeout: 5s }]
devices:
${devices}
`,
    'day.yaml',
    {},
  );
  gw = Gateway.create({ config, log: pino({ level: 'warn' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
  await gw.start();
  // The session is up and the first values are stored: let the day run.
  await waitFor(() => gw.store.series(PUMPS[2] as string, 'thermal_total'), 10_000);
  clock.go();
}, 30_000);

afterAll(async () => {
  await gw?.stop();
  await sim?.stop();
  tmp.cleanup();
});

/** The newest stored timestamp of a series. */
function newest(device: string, metric: string): number {
  return rawSeries(gw.store, device, metric, 0, Number.MAX_SAFE_INTEGER).at(-1)?.[0] ?? 0;
}

describe('the energy station over a simulated day', () => {
  it('heat-pump SPF from the stored counters is within 0.5 % of the simulator ground truth, per pump and for the fleet', async () => {
    // Wait until the gateway holds every pump's counters past the end of the day.
    await waitFor(() => PUMPS.every((p) => newest(p, 'thermal_total') > day.end && newest(p, 'electric_total') > day.end), 15_000, 100);
    const t0 = sim.totalsAt(day.start) as Totals;
    const t1 = sim.totalsAt(day.end) as Totals;
    expect(t0).toBeDefined();
    expect(t1).toBeDefined();
    const delta = (id: string, k: 'thermal_wh' | 'electric_wh') => (t1.pumps[id]?.[k] ?? 0) - (t0.pumps[id]?.[k] ?? 0);
    const heat = PUMPS.reduce((a, p) => a + delta(p, 'thermal_wh'), 0);
    const elec = PUMPS.reduce((a, p) => a + delta(p, 'electric_wh'), 0);
    // A real heating day: the pumps ran, at a plausible air-to-water efficiency.
    expect(heat).toBeGreaterThan(100_000);
    const truth = heat / elec;
    expect(truth).toBeGreaterThan(2);
    expect(truth).toBeLessThan(6);

    const pass = new KpiPass(gw.store.kpiReads(), Date.now(), calculatorOptions(gw.config));
    const [fleet] = pass.compute(day, { site: true }, ['heat_pump_spf']);
    expect(fleet?.value).not.toBeNull();
    expect(Math.abs((fleet?.value as number) - truth)).toBeLessThanOrEqual(truth * 0.005);
    expect(fleet?.coverage).toBeGreaterThan(0.99);
    for (const p of PUMPS) {
      const want = delta(p, 'thermal_wh') / delta(p, 'electric_wh');
      const [one] = pass.compute(day, { device: p }, ['heat_pump_spf']);
      expect(Math.abs((one?.value as number) - want), p).toBeLessThanOrEqual(want * 0.005);
    }
  }, 30_000);

  it("the heat meter's GJ counter arrives in Wh and matches the heat the station delivered that day", () => {
    const s = gw.store.series('st-heat', 'thermal_total');
    expect(s).toBeDefined();
    const at = (ts: number) => rawSeries(gw.store, 'st-heat', 'thermal_total', ts, ts + 1)[0]?.[1];
    const v0 = at(day.start);
    const v1 = at(day.end);
    expect(v0).toBeTypeOf('number');
    expect(v1).toBeTypeOf('number');
    const t0 = sim.totalsAt(day.start) as Totals;
    const t1 = sim.totalsAt(day.end) as Totals;
    const want = t1.heat_wh - t0.heat_wh;
    expect(Math.abs((v1 as number) - (v0 as number) - want)).toBeLessThanOrEqual(want * 0.001);
  });
});
