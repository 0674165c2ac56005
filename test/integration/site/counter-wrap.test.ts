import Modbus from 'modbus-serial';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import type { Sample } from '../../../gateway/model/types.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { StallFreeClock } from '../../helpers/stall-free-clock.js';

/**
 * Device facts flow from the resolved site to the pipeline and the KPIs. A grid meter whose
 * import counter is a uint16 in 0.01 kWh (it wraps at 655.36 kWh) declares that maximum
 * (`import_total_max: 655.36`, in the register's own unit). A real Modbus TCP server
 * (modbus-serial ServerTCP) computes the register from the accelerated clock at each request: a
 * constant 60 kW, so the counter wraps twice in the simulated day. Through the running gateway,
 * the wrapped samples are flagged `counter_rollover` and the day's grid_import KPI equals the
 * ground truth (1440 kWh) within 0.5 %. A second meter, with no declared maximum, is swapped
 * mid-day: its uint32 kWh export counter drops from 9300 kWh to 2 kWh. In Wh that is just
 * below 10^7, which the old rule (on converted values) took for a wrap; on the raw register
 * value it is a reset.
 */

const { ServerTCP } = Modbus;
const SPEED = 8640; // a day in 10 s
const POLL_MS = 20; // ≈ 173 simulated seconds
const DAY_START = Date.parse('2024-06-03T00:00:00+08:00');
const START = DAY_START - 15 * 60_000;
const POWER_KW = 60;
const SWAP_AT = DAY_START + 12 * 3_600_000;

const t = tempDir('fcgw-wrap-');
afterAll(() => t.cleanup());

describe('a declared counter maximum reaches the pipeline and the KPIs', () => {
  it('a uint16 kWh counter wraps twice in a day: flagged counter_rollover, grid_import within 0.5 %; a swap without a declared maximum is a reset', async () => {
    const [port, api] = [await freePort(), await freePort()];
    // Stands still until go() and while this process stalls (helpers/stall-free-clock.ts).
    const clock = new StallFreeClock(START, SPEED);
    // Ground truth: energy imported since START (kWh) at a clock time.
    const importedKwh = (ts: number) => (POWER_KW * (ts - START)) / 3_600_000;
    const register = (addr: number, unit: number): number => {
      const now = clock.now();
      if (unit === 1 && addr === 0) return Math.floor(importedKwh(now) * 100) % 65536;
      if (unit === 2 && (addr === 2 || addr === 3)) {
        // Meter B's export counter (uint32, kWh): 9300 before the swap, a fresh meter after it.
        const v = now < SWAP_AT ? 9300 + Math.floor((now - START) / 3_600_000) : 2 + Math.floor((now - SWAP_AT) / 3_600_000);
        return addr === 2 ? Math.floor(v / 65536) : v % 65536;
      }
      return 0;
    };
    const server = new ServerTCP(
      {
        getHoldingRegister: (addr: number, unit: number) => register(addr, unit),
        getMultipleHoldingRegisters: (addr: number, len: number, unit: number) => Array.from({ length: len }, (_, i) => register(addr + i, unit)),
      } as never,
      { host: '127.0.0.1', port, unitID: 255 },
    );
    await new Promise<void>((resolve) => server.once('initialized', () => resolve()));

    const profiles = join(t.dir, 'profiles');
    mkdirSync(profiles);
    writeFileSync(
      join(profiles, 'wrap-meter.yaml'),
      `id: wrap-meter
description: grid meter with a 16-bit import counter in 0.01 kWh and a 32-bit export counter in kWh
classes: [grid_meter]
protocol: modbus
defaults: { function: holding, order: ABCD, poll: 1s }
points:
  - { metric: import_total, address: 0, type: uint16, scale: 0.01, unit: kWh, slow: true }
  - { metric: export_total, address: 2, type: uint32, unit: kWh, slow: true }
`,
    );
    const config = parseConfig(
      `version: 1
site: { id: wrap, timezone: Asia/Shanghai }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: ${api} }
logging: { level: warn }
pipeline: { stale_after: 1h }
kpi: { max_gap: 1h, evaluate_every: 12h }
profiles: { dirs: [${profiles}] }
connections:
  - { id: meters, protocol: modbus-tcp, host: 127.0.0.1, port: ${port}, timeout: 1s, gap: 0ms, retries: 2, quarantine_min: 100ms, quarantine_max: 500ms }
devices:
  - { id: meter-a, class: grid_meter, connection: meters, profile: wrap-meter, unit: 1, poll: ${POLL_MS}ms, options: { import_total_max: 655.36 } }
  - { id: meter-b, class: grid_meter, connection: meters, profile: wrap-meter, unit: 2, poll: ${POLL_MS}ms }
`,
      'wrap.yaml',
      {},
    );
    const gw = Gateway.create({ config, log: createLogger({ level: 'warn' }), clock, processMetrics: false, env: { FCGW_SITE_SECRET: 'k'.repeat(32) } });
    const samples: Sample[] = [];
    const day = windowAt('day', DAY_START, 'Asia/Shanghai');
    let kpi: { value: number | null; coverage: number } | undefined;
    try {
      await gw.start();
      gw.ingestor.onCommit((s) => samples.push(...s));
      clock.go();
      await waitFor(() => clock.now() > day.end + 15 * 60_000, 40_000, 100);
      const res = await fetch(`${gw.apiUrl}/api/kpis?window=day&at=${new Date(day.start).toISOString()}`);
      const rows = (await res.json()) as { kpi: string; scope: string; value: number | null; coverage: number }[];
      kpi = rows.find((r) => r.kpi === 'grid_import' && r.scope === 'site');
    } finally {
      clock.stop();
      await gw.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }

    const of = (device: string, metric: string) => samples.filter((s) => s.device === device && s.metric === metric);
    const a = of('meter-a', 'import_total');
    expect(a.length).toBeGreaterThan(300);
    const wraps = a.filter((s) => s.reason === 'counter_rollover');
    expect(wraps.length).toBe(2);
    expect(a.filter((s) => s.reason === 'counter_reset')).toEqual([]);
    // Values stay in catalog units (Wh) and below the declared maximum.
    expect(Math.max(...a.map((s) => s.value as number))).toBeLessThan(655_360);

    const truth = (importedKwh(day.end) - importedKwh(day.start)) * 1000;
    expect(truth).toBe(1_440_000);
    const rel = Math.abs((kpi?.value ?? NaN) - truth) / truth;
    console.log(`counter-wrap: ${a.length} samples, ${wraps.length} rollovers; grid_import ${kpi?.value} Wh vs ${truth} Wh (${(100 * rel).toFixed(3)} %), coverage ${kpi?.coverage}`);
    expect(rel).toBeLessThan(0.005);

    const b = of('meter-b', 'export_total');
    // The swap is the reading that drops below the one before it. Its time is its poll's start,
    // which can come just before SWAP_AT on a busy machine when the meter swapped mid-poll.
    const swap = b.find((s, i) => i > 0 && (s.value as number) < ((b[i - 1] as Sample).value as number));
    expect(Math.abs((swap?.ts ?? 0) - SWAP_AT)).toBeLessThanOrEqual(10 * POLL_MS * SPEED);
    expect(swap?.reason).toBe('counter_reset');
    expect(b.filter((s) => s.reason === 'counter_rollover')).toEqual([]);
  }, 60_000);
});
