// Bench: Modbus polling at community scale — 500 simulated SunSpec inverters (models 1, 103 and
// 160 with one MPPT module: 43 registers in 2 reads per poll) behind 10 Modbus TCP endpoints
// (50 unit ids each), polled every second by the real gateway (drivers → pipeline → SQLite).
// The simulators run in a child process, so CPU and RSS are the gateway's alone. Side by side in
// the same run: a bare modbus-serial loop (one client per endpoint, the same reads, no decoding,
// no store) gives the protocol's own CPU cost and jitter on this machine at this moment as the
// baseline. Gateway and baseline each run in a process of their own. Writes test/bench/results/modbus.json.
//   node --import tsx test/bench/modbus.ts     (BENCH_MODBUS_SECONDS=20 measured, after 8 s warm-up)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import Modbus from 'modbus-serial';
import { Gateway } from '../../gateway/app.js';
import { parseConfig } from '../../gateway/config/load.js';
import { createLogger } from '../../gateway/runtime/log.js';
import { modbusProfiles } from '../../simulators/energy/index.js';
import { UnitImage } from '../../simulators/servers/modbus-image.js';
import { ModbusTcpSimServer } from '../../simulators/servers/modbus-tcp.js';
import { SimUnits } from '../../simulators/servers/modbus-units.js';
import { freePort, tempDir } from '../helpers/peers.js';

const ENDPOINTS = 10;
const PER_ENDPOINT = 50;
const PERIOD = 1000;
const SECONDS = Number(process.env['BENCH_MODBUS_SECONDS'] ?? 20);
const WARMUP = 8;

/** Simulator mode (a child process): 10 endpoints × 50 inverters whose power changes every read. */
async function serve(ports: number[]): Promise<void> {
  const profile = modbusProfiles().get('sunspec');
  if (!profile) throw new Error('no sunspec profile');
  for (const port of ports) {
    const units = new SimUnits();
    for (let u = 1; u <= PER_ENDPOINT; u++) {
      let n = 0;
      const values = () => ({ ac_power: 20_000 + ((n * 37 + u) % 5000), dc_power: 21_000 + (n % 4000), energy_total: 1_000_000 + 10 * n, state: 'mppt' });
      const image = new UnitImage(profile, [{ cls: 'pv_inverter', values, ratings: { ac_power: 50_000, dc_power: 60_000, energy_total: 1e9 } }], { models: [103, 160], mppt: 1 });
      units.add(u, {
        image,
        refresh: () => {
          n++;
          image.refresh();
        },
      });
    }
    await new ModbusTcpSimServer(units, { port }).start();
  }
  console.log('READY');
}

function startSimulators(ports: number[]): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--serve', ports.join(',')], { stdio: ['ignore', 'pipe', 'inherit'] });
    createInterface({ input: p.stdout }).on('line', (l) => l === 'READY' && resolve(() => p.kill('SIGTERM')));
    p.on('exit', (code) => reject(new Error(`simulators exited ${code}`)));
  });
}

const pct = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] as number) : NaN;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

/** CPU (share of one core) and peak RSS of this process while `fn` runs. */
async function measure<T>(seconds: number, fn: () => T): Promise<{ cpu: number; rssMb: number; loopP99Ms: number; value: T }> {
  let rss = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 250);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  clearInterval(sampler);
  loop.disable();
  return { cpu: (c.user + c.system) / 1000 / wall, rssMb: Math.round(rss / 2 ** 20), loopP99Ms: r1(loop.percentile(99) / 1e6), value: fn() };
}

async function gatewayRun(ports: number[], dir: string) {
  const conns = ports.map((p, i) => `  - { id: ep${i}, protocol: modbus-tcp, host: 127.0.0.1, port: ${p}, timeout: 500ms, gap: 0ms, retries: 1 }`).join('\n');
  const devs = ports
    .flatMap((_, i) => Array.from({ length: PER_ENDPOINT }, (_, u) => `  - { id: inv-${i}-${u + 1}, class: pv_inverter, connection: ep${i}, profile: sunspec, unit: ${u + 1}, poll: ${PERIOD}ms }`))
    .join('\n');
  const config = parseConfig(
    `version: 1
site: { id: bench }
store: { path: ${join(dir, 'bench.db')} }
api: { host: 127.0.0.1, port: ${await freePort()} }
logging: { level: warn }
connections:
${conns}
devices:
${devs}
`,
    'bench.yaml',
    {},
  );
  global.gc?.();
  const rssBefore = Math.round(process.memoryUsage().rss / 2 ** 20);
  const gw = Gateway.create({ config, log: createLogger({ level: 'warn' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'b'.repeat(32) } });
  await gw.start();
  let on = false;
  const seen = new Map<string, number[]>();
  let samples = 0;
  gw.ingestor.onCommit((batch) => {
    if (!on) return;
    samples += batch.length;
    for (const s of batch) if (s.metric === 'ac_power') (seen.get(s.device) ?? seen.set(s.device, []).get(s.device))?.push(s.ts);
  });
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const sum = (k: string) => gw.driverHealth().reduce((n, h) => n + (h.counters?.[k] ?? 0), 0);
  const polls0 = sum('polls');
  const overruns0 = sum('overruns');
  on = true;
  const m = await measure(SECONDS, () => gw.driverHealth());
  on = false;
  const health = m.value;
  const polls = health.reduce((n, h) => n + (h.counters?.['polls'] ?? 0), 0) - polls0;
  const overruns = health.reduce((n, h) => n + (h.counters?.['overruns'] ?? 0), 0) - overruns0;
  const online = health.flatMap((h) => h.devices).filter((d) => d.state === 'online').length;
  const jitter: number[] = [];
  let atPeriod = 0;
  for (const ts of seen.values()) {
    const gaps = ts.slice(1).map((t, i) => t - (ts[i] as number));
    for (const g of gaps) jitter.push(Math.abs(g - PERIOD));
    const mean = ts.length > 1 ? ((ts.at(-1) as number) - (ts[0] as number)) / (ts.length - 1) : Infinity;
    if (Math.abs(mean - PERIOD) <= 0.02 * PERIOD && ts.length >= SECONDS - 1) atPeriod++;
  }
  await gw.stop();
  return {
    devices: ENDPOINTS * PER_ENDPOINT,
    online,
    devices_at_period: atPeriod,
    polls_per_s: Math.round(polls / SECONDS),
    samples_per_s: Math.round(samples / SECONDS),
    jitter_p50_ms: r1(pct(jitter, 0.5)),
    jitter_p99_ms: r1(pct(jitter, 0.99)),
    jitter_max_ms: r1(Math.max(...jitter)),
    overruns,
    cpu_core_share: Math.round(m.cpu * 100) / 100,
    rss_mb: m.rssMb,
    rss_before_gateway_mb: rssBefore,
    event_loop_delay_p99_ms: m.loopP99Ms,
  };
}

/** The baseline: one bare modbus-serial client per endpoint, the same two reads per unit each second. */
async function bareRun(ports: number[]) {
  const ModbusRTU = Modbus.default;
  const clients = await Promise.all(
    ports.map(async (port) => {
      const c = new ModbusRTU();
      await c.connectTCP('127.0.0.1', { port });
      c.setTimeout(500);
      return c;
    }),
  );
  let stop = false;
  let polls = 0;
  let on = false;
  const seen = new Map<string, number[]>();
  const loops = clients.map(async (c, i) => {
    let next = performance.now();
    while (!stop) {
      for (let u = 1; u <= PER_ENDPOINT && !stop; u++) {
        c.setID(u);
        // 103 at 40070: 40084..40108 (the energy counter 40094..40096 inside); 160 at 40122: 40126..40143.
        await c.readHoldingRegisters(40084, 25);
        await c.readHoldingRegisters(40126, 18);
        polls++;
        if (on) (seen.get(`${i}-${u}`) ?? seen.set(`${i}-${u}`, []).get(`${i}-${u}`))?.push(Date.now());
      }
      next += PERIOD;
      await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
    }
  });
  await new Promise((r) => setTimeout(r, 3000));
  const p0 = polls;
  on = true;
  const m = await measure(SECONDS, () => polls - p0);
  stop = true;
  await Promise.all(loops);
  for (const c of clients) c.close(() => undefined);
  const jitter = [...seen.values()].flatMap((ts) => ts.slice(1).map((t, k) => Math.abs(t - (ts[k] as number) - PERIOD)));
  return {
    polls_per_s: Math.round(m.value / SECONDS),
    jitter_p50_ms: r1(pct(jitter, 0.5)),
    jitter_p99_ms: r1(pct(jitter, 0.99)),
    cpu_core_share: Math.round(m.cpu * 100) / 100,
    rss_mb: m.rssMb,
    event_loop_delay_p99_ms: m.loopP99Ms,
  };
}

/** The gateway run in a process of its own, so its RSS and CPU are not the baseline's. */
function gatewayProcess(ports: number[], dir: string): Promise<Awaited<ReturnType<typeof gatewayRun>>> {
  return new Promise((resolve, reject) => {
    // BENCH_MODBUS_PROFILE=DIR: the gateway's --cpu-prof goes there.
    const prof = process.env['BENCH_MODBUS_PROFILE'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_MODBUS_PROFILE']}`] : [];
    const p = spawn(process.execPath, [...prof, '--import', 'tsx', import.meta.filename, '--gateway', ports.join(','), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out: string | undefined;
    createInterface({ input: p.stdout }).on('line', (l) => {
      if (l.startsWith('{')) out = l;
    });
    p.on('exit', (code) => (code === 0 && out ? resolve(JSON.parse(out) as Awaited<ReturnType<typeof gatewayRun>>) : reject(new Error(`gateway run exited ${code}`))));
  });
}

async function main(): Promise<void> {
  const ports: number[] = [];
  while (ports.length < ENDPOINTS) {
    const p = await freePort();
    if (!ports.includes(p)) ports.push(p);
  }
  const stopSims = await startSimulators(ports);
  const t = tempDir('fcgw-bench-modbus-');
  try {
    const bare = await bareRun(ports);
    console.log(`bare modbus-serial (same reads, no decode/store): ${bare.polls_per_s} polls/s, jitter p50 ${bare.jitter_p50_ms} ms p99 ${bare.jitter_p99_ms} ms, CPU ${bare.cpu_core_share} core`);
    const gw = await gatewayProcess(ports, t.dir);
    console.log(
      `gateway: ${gw.online}/${gw.devices} online, ${gw.devices_at_period} at 1 s (±2 %), ${gw.polls_per_s} polls/s, ${gw.samples_per_s} samples/s, ` +
        `jitter p50 ${gw.jitter_p50_ms} ms p99 ${gw.jitter_p99_ms} ms max ${gw.jitter_max_ms} ms, CPU ${gw.cpu_core_share} core, RSS ${gw.rss_mb} MB, event-loop delay p99 ${gw.event_loop_delay_p99_ms} ms`,
    );
    const result = {
      bench: 'modbus',
      node: process.version,
      at: new Date().toISOString(),
      setup: `${ENDPOINTS} Modbus TCP endpoints × ${PER_ENDPOINT} SunSpec inverters (43 registers, 2 reads), poll ${PERIOD} ms, ${SECONDS} s measured`,
      gateway: gw,
      bare,
      load_average: loadavg().map((x) => Math.round(x * 10) / 10),
      cpu_ratio_to_bare: Math.round((gw.cpu_core_share / Math.max(0.01, bare.cpu_core_share)) * 10) / 10,
      goal: { devices_at_period: 500, jitter_p99_ms: 50, rss_mb: 250, cpu_core_share: 1 },
      met: gw.devices_at_period >= 500 && gw.jitter_p99_ms < 50 && gw.rss_mb < 250 && gw.cpu_core_share < 1,
    };
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'modbus.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    stopSims();
    t.cleanup();
  }
}

const argPorts = (process.argv[3] ?? '').split(',').map(Number);
if (process.argv[2] === '--serve') await serve(argPorts);
else if (process.argv[2] === '--gateway') console.log(JSON.stringify(await gatewayRun(argPorts, process.argv[4] as string)));
else await main();
