import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createKpiEngine } from '../../../gateway/kpi/index.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { ManualClock } from '../../../gateway/model/clock.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { rawSeries } from '../../../gateway/store/queries.js';
import { Store } from '../../../gateway/store/store.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { pymodbusPython, serveSunSpecImage, type ImageUnit } from '../../helpers/sunspec-image.js';

/**
 * Issue 12's done-when: through a running gateway (real Modbus driver, pipeline, SQLite store),
 * a Fronius-like float image served by pymodbus reports 10 × its nameplate power and a lifetime
 * energy that jumps by a billion Wh. Both are stored `bad` / `implausible` with their raw value,
 * counted by reason in /metrics, and the day's PV KPI is what the good readings say.
 */

const PY = pymodbusPython();
const t = tempDir('fcgw-implausible-');
afterAll(() => t.cleanup());

const DAY = Date.parse('2024-06-21T00:00:00+08:00');
const RATED = 10_000; // WRtg 1000 × 10^1 W
/** A billion Wh more, as a float32 register holds it. */
const JUMP = Math.fround(1_005_000_100);

const IMAGE: Record<number, ImageUnit> = {
  1: {
    models: [
      { id: 1, length: 65, values: { Mn: 'Fronius', Md: 'Symo GEN24 10.0 Plus' } },
      { id: 113, values: { W: 3000, WH: 5_000_000, St: 4 } },
      { id: 120, values: { DERTyp: 4, WRtg: 1000, WRtg_SF: 1 } },
    ],
  },
};

describe.skipIf(!PY)('implausible values through a running gateway', () => {
  it('10 × nameplate power and a billion-Wh counter jump are stored bad/implausible, counted, and kept out of the KPIs', async () => {
    const img = await serveSunSpecImage(PY as string, await freePort(), IMAGE);
    const clock = new ManualClock(DAY + 10 * 3_600_000);
    const config = parseConfig(
      `version: 1
site: { id: implausible, timezone: Asia/Shanghai }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${await freePort()} }
logging: { level: warn }
connections:
  - { id: inv, protocol: modbus-tcp, host: 127.0.0.1, port: ${img.port}, timeout: 1s, gap: 0ms }
devices:
  - { id: pv, class: pv_inverter, connection: inv, profile: sunspec, unit: 1, poll: 50ms }
`,
      'implausible.yaml',
      {},
    );
    const gw = Gateway.create({ config, log: createLogger({ level: 'warn' }), clock, processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
    await gw.start();
    const series = (metric: string) => rawSeries(gw.store, 'pv', metric, DAY, DAY + 86_400_000);
    const stored = (metric: string, value: number) => waitFor(() => series(metric).find((p) => p[1] === value), 8000).catch((e: Error) => { throw new Error(`${metric} = ${value}: ${e.message}; have ${JSON.stringify(series(metric))}; ${JSON.stringify(gw.driverHealth())}`); });
    // Time moves first, then the device changes: two readings never share a timestamp (a later
    // one would replace the earlier in the store, as a device's corrected value does).
    const step = async (ms: number, set: [string, number][]) => {
      clock.advance(ms);
      for (const [point, value] of set) await img.set(1, 113, point, value);
    };
    let metricsText = '';
    try {
      await stored('energy_total', 5_000_000);
      await step(10_000, [['WH', 5_000_100]]);
      await stored('energy_total', 5_000_100);
      // The device goes wrong: 100 kW from a 10 kW inverter, and a billion Wh in ten seconds.
      await step(10_000, [['W', 10 * RATED], ['WH', JUMP]]);
      const power = await stored('ac_power', 10 * RATED);
      const jump = await stored('energy_total', JUMP);
      expect(power[2]).toBe('bad');
      expect(jump[2]).toBe('bad');
      // And recovers: the next readings are good, the counter is not taken for a reset.
      await step(10_000, [['W', 3100], ['WH', 5_000_200]]);
      expect((await stored('energy_total', 5_000_200))[2]).toBe('good');
      expect((await stored('ac_power', 3100))[2]).toBe('good');
      metricsText = await gw.metrics.registry.metrics();
    } finally {
      await gw.stop();
      await img.stop();
    }
    const counted = /fcgw_ingest_flagged_samples_total\{class="pv_inverter",reason="implausible"\} (\d+)/.exec(metricsText);
    expect(Number(counted?.[1])).toBeGreaterThanOrEqual(2);

    const log = createLogger({ level: 'warn' });
    const later = { now: () => DAY + 11 * 3_600_000 };
    const store = Store.open({ path: config.store.path, site: config.site.id, clock: later, log });
    try {
      // The sample log as the sinks read it: raw value kept, quality and reason set.
      const flagged = store.samplesAfter(0, 10_000).filter((s) => s.reason === 'implausible');
      expect([...new Set(flagged.map((s) => JSON.stringify([s.metric, s.value, s.quality])))].sort().map((x) => JSON.parse(x) as unknown)).toEqual([
        ['ac_power', 10 * RATED, 'bad'],
        ['energy_total', JUMP, 'bad'],
      ]);
      const kpi = createKpiEngine({ config, store, clock: later, log });
      const day = windowAt('day', DAY, 'Asia/Shanghai');
      const pv = kpi.kpis('day', day.start).find((r) => r.scope === 'site' && r.kpi === 'pv_generation');
      // What the good readings say: 5,000,000 → 5,000,200 Wh.
      expect(pv?.value).toBe(200);
      kpi.stop();
    } finally {
      store.close();
    }
  }, 30_000);
});
