// Bench: what a gateway costs an edge box before it does anything, and while it runs the demo.
// 1. `fcgw start` with no connections (no broker, sinks or simulators), with the environment
//    `npm start` gives it: time from spawn until /api/health answers, RSS 3 s after start and
//    once V8's memory reducer has run (30 s: what the box carries from then on),
//    in alternating rounds as `npm start` runs it (compiled JavaScript, bin/build.js) and from
//    the TypeScript sources through tsx (FCGW_SOURCES=1, how it ran before), beside bare Node;
//    and compiled with the build's parsed profiles moved aside (compiled_yaml: every built-in
//    profile's YAML parsed at start, as before bin/build.js wrote drivers/profiles/.parsed.json).
// 2. The demo community (414 devices, simulators in the same process) at 1x: RSS and CPU (% of
//    one core, from /proc) over a steady window after warm-up; then the same community with its
//    simulated devices in a process of their own (`fcgw simulate`), the gateway measured alone,
//    as a site with real devices runs it. For both, what the gateway writes to disk over the
//    window (/proc/<pid>/io write_bytes: the WAL and its checkpoints) per committed row and per
//    day, for boxes whose eMMC or SD card wears with every byte.
// Writes test/bench/results/footprint.json. Linux only (/proc).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt } from '../../bin/build.js';
import { relocatedDemo } from '../helpers/demo.js';
import { freePort, tempDir } from '../helpers/peers.js';
import { diskWriteBytes, scrapeMetrics } from '../helpers/metrics-text.js';
import { previousResult } from '../helpers/bench-previous.js';
import { startEnv } from '../helpers/start-env.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const DEMO_WARMUP_S = Number(process.env['BENCH_DEMO_WARMUP'] ?? 30);
const DEMO_WINDOW_S = Number(process.env['BENCH_DEMO_WINDOW'] ?? 60);
const BIN = join(import.meta.dirname, '../../bin/fcgw.js');
const TICK = 100; // /proc/<pid>/stat counts in clock ticks of 1/100 s on Linux

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const cpuS = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / TICK;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function stop(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await Promise.race([exited, sleep(10_000).then(() => proc.kill('SIGKILL'))]);
}

const dir = tempDir('fcgw-bench-footprint-');
const load0 = loadavg()[0] as number;
const build = await ensureBuilt(); // the first start after an edit builds; measured starts use the build
const PARSED = join(build, 'drivers/profiles/.parsed.json');
type Mode = 'compiled' | 'compiled_yaml' | 'sources';
const MODES: Mode[] = ['compiled', 'compiled_yaml', 'sources'];

async function emptyGateway(mode: Mode, steadyToo: boolean) {
  const port = await freePort();
  const file = join(dir.dir, `empty-${mode}.yaml`);
  writeFileSync(file, `version: 1\nsite: { id: empty, timezone: Asia/Shanghai }\nstore: { path: ${join(dir.dir, `empty-${mode}-${port}.db`)} }\napi: { host: 127.0.0.1, port: ${port} }\nlogging: { level: warn }\nconnections: []\ndevices: []\n`);
  // The gateway reads the parsed profiles once, before it listens: moved aside until it answers.
  if (mode === 'compiled_yaml') renameSync(PARSED, `${PARSED}.aside`);
  const t0 = performance.now();
  const proc = spawn(process.execPath, [BIN, 'start', '-c', file], {
    env: { ...process.env, ...startEnv(), FCGW_SITE_SECRET: 'bench-secret-0123456789abcdef', ...(mode === 'sources' ? { FCGW_SOURCES: '1' } : {}) },
    stdio: 'ignore',
  });
  let healthMs = NaN;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api/health`)).ok) {
        healthMs = performance.now() - t0;
        break;
      }
    } catch {
      /* not listening yet */
    }
    if (performance.now() - t0 > 60_000) {
      if (mode === 'compiled_yaml') renameSync(`${PARSED}.aside`, PARSED);
      proc.kill('SIGKILL');
      throw new Error(`${mode}: no /api/health within 60 s`);
    }
    await sleep(10);
  }
  if (mode === 'compiled_yaml') renameSync(`${PARSED}.aside`, PARSED);
  await sleep(3000 - (performance.now() - t0 - healthMs));
  const rss3 = rssMb(proc.pid as number);
  let rss30: number | undefined;
  if (steadyToo) {
    await sleep(30_000 - (performance.now() - t0));
    rss30 = rssMb(proc.pid as number);
  }
  await stop(proc);
  return { healthMs, rss3, rss30 };
}

try {
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(1500);
  const bareRss = rssMb(bare.pid as number);
  await stop(bare);

  if (!existsSync(PARSED)) throw new Error(`${PARSED}: the build has no parsed profiles`);
  const runs: Record<Mode, { healthMs: number; rss3: number; rss30?: number | undefined }[]> = { compiled: [], compiled_yaml: [], sources: [] };
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with another mode: none is always first (or last) on a shared box.
    for (const mode of MODES.map((_, i) => MODES[(i + round) % MODES.length] as Mode)) {
      // Settled RSS (30 s) in every round of the mode `npm start` runs, once for the others.
      const r = await emptyGateway(mode, round === 0 || mode === 'compiled');
      runs[mode].push(r);
      console.log(`round ${round + 1} ${mode}: /api/health after ${Math.round(r.healthMs)} ms, RSS ${r1(r.rss3)} MB at 3 s${r.rss30 !== undefined ? `, ${r1(r.rss30)} MB at 30 s` : ''}`);
    }
  }
  const summary = (m: Mode) => ({
    health_ms_median: Math.round(median(runs[m].map((r) => r.healthMs))),
    health_ms: runs[m].map((r) => Math.round(r.healthMs)),
    rss_mb_3s_median: r1(median(runs[m].map((r) => r.rss3))),
    rss_mb_30s_median: r1(median(runs[m].flatMap((r) => (r.rss30 === undefined ? [] : [r.rss30])))),
    rss_mb_30s: runs[m].flatMap((r) => (r.rss30 === undefined ? [] : [r1(r.rss30)])),
  });

  // The demo community at 1x, in one process as `npm start` runs it (its simulators inside).
  const { configFile, ports, text } = await relocatedDemo(dir.dir, (doc) => doc.setIn(['logging', 'level'], 'warn'));
  const apiPort = ports.get(8080) as number;
  const env = { ...process.env, ...startEnv(), FCGW_SITE_SECRET: 'bench-secret-0123456789abcdef' };
  const measureDemo = async (startConfig: string) => {
    const demo = spawn(process.execPath, [BIN, 'start', '-c', startConfig], { env, stdio: 'ignore' });
    const pid = demo.pid as number;
    const d0 = performance.now();
    while (!(await fetch(`http://127.0.0.1:${apiPort}/api/health`).then((r) => r.ok, () => false))) {
      if (performance.now() - d0 > 60_000) throw new Error('demo: no /api/health within 60 s');
      await sleep(100);
    }
    const healthMs = performance.now() - d0;
    await sleep(DEMO_WARMUP_S * 1000);
    const rows = async () => {
      const m = await scrapeMetrics(`http://127.0.0.1:${apiPort}`, ['fcgw_ingest_samples_total', 'fcgw_ingest_events_total', 'fcgw_ingest_batches_total']);
      return { rows: m.fcgw_ingest_samples_total + m.fcgw_ingest_events_total, commits: m.fcgw_ingest_batches_total };
    };
    const io0 = diskWriteBytes(pid);
    const rows0 = await rows();
    const c0 = cpuS(pid);
    const w0 = performance.now();
    const rss: number[] = [];
    while (performance.now() - w0 < DEMO_WINDOW_S * 1000) {
      rss.push(rssMb(pid));
      await sleep(5000);
    }
    const secs = (performance.now() - w0) / 1000;
    const cpuPct = ((cpuS(pid) - c0) / secs) * 100;
    const written = diskWriteBytes(pid) - io0;
    const rows1 = await rows();
    const committed = rows1.rows - rows0.rows;
    const health = (await (await fetch(`http://127.0.0.1:${apiPort}/api/health`)).json()) as { devices?: unknown; drivers?: { devices: unknown[] }[] };
    await stop(demo);
    return {
      devices: (health.drivers ?? []).reduce((n, d) => n + d.devices.length, 0),
      health_ms: Math.round(healthMs),
      rss_mb_steady_median: r1(median(rss)),
      rss_mb_max: r1(Math.max(...rss)),
      cpu_pct_of_one_core: r1(cpuPct),
      disk: {
        rows_per_s: r1(committed / secs),
        commits_per_s: r1((rows1.commits - rows0.commits) / secs),
        bytes_per_row: Math.round(written / committed),
        mb_per_day: Math.round(((written / secs) * 86_400) / 1e6),
      },
      window_s: DEMO_WINDOW_S,
      warmup_s: DEMO_WARMUP_S,
    };
  };
  const demo1x = await measureDemo(configFile);

  // The same community with the simulated devices in a process of their own (`fcgw simulate`),
  // as a site runs with real devices: the gateway's own share. Same ports, same store path.
  const gatewayOnly = join(dir.dir, 'demo-gateway-only.yaml');
  writeFileSync(gatewayOnly, text.replace(/^(simulators:\n(?: {2}.*\n)*? {2}enabled: )true$/m, '$1false'));
  if (!/^ {2}enabled: false$/m.test(readFileSync(gatewayOnly, 'utf8'))) throw new Error('could not turn the simulators off in the demo copy');
  for (const f of ['demo.db', 'demo.db-wal', 'demo.db-shm']) rmSync(join(dir.dir, f), { force: true });
  const sims = spawn(process.execPath, [BIN, 'simulate', '-c', configFile], { env, stdio: 'ignore' });
  await sleep(3000);
  const demoGatewayOnly = await measureDemo(gatewayOnly);
  const simsCpuS = cpuS(sims.pid as number);
  await stop(sims);

  const result = {
    bench: 'footprint',
    empty_gateway: {
      compiled: summary('compiled'),
      compiled_yaml: summary('compiled_yaml'),
      sources_tsx: summary('sources'),
      bare_node_rss_mb: r1(bareRss),
      health_ratio_parsed_to_yaml: Math.round((median(runs.compiled.map((r) => r.healthMs)) / median(runs.compiled_yaml.map((r) => r.healthMs))) * 100) / 100,
    },
    demo_1x: demo1x,
    // The gateway alone, its simulators in another process (whose total CPU time is beside it).
    demo_1x_gateway_only: { ...demoGatewayOnly, simulators_process_cpu_s: r1(simsCpuS) },
    goals: { empty_rss_mb: '< 70', empty_health_ms: '< 500', demo_rss_mb: '< 150', demo_cpu_pct: '< 3' },
    loadavg_1m: { before: r1(load0), after: r1(loadavg()[0] as number) },
    node: process.version,
    at: new Date().toISOString(),
    previous: previousResult('footprint'),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(join(import.meta.dirname, 'results', 'footprint.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  dir.cleanup();
}
