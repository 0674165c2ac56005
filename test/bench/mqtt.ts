// Bench: MQTT ingest end to end — a publisher process → Mosquitto → the gateway's MQTT driver →
// committed in SQLite — side by side, in the same run, with a bare mqtt.js QoS 1 subscriber
// counting the same messages from the same publisher. Then the same good messages with one bad
// message (malformed, wrong type, no mapped field, unknown metric, oversize, out of order) after
// every tenth, beside the bare subscriber on the same stream: every bad one refused and counted,
// the good ones at the same share of the bare rate. Then the publish-to-commit latency at a
// steady 5,000 msg/s, beside the publish-to-receive latency of the bare subscriber at the same
// rate (what the machine, the broker and the publisher cost without the gateway).
// Writes test/bench/results/mqtt.json.
//   node --import tsx test/bench/mqtt.ts            (BENCH_MQTT_MESSAGES=60000 by default)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mqtt from 'mqtt';
import { Gateway } from '../../gateway/app.js';
import { parseConfig } from '../../gateway/config/load.js';
import { createLogger } from '../../gateway/runtime/log.js';
import { freePort, tempDir, waitFor } from '../helpers/peers.js';
import { startMosquitto } from '../integration/mqtt/mosquitto.js';

const DEVICES = 100;

const BAD_EVERY = 10;
/** One bad message of each kind in turn, with the reason the gateway must count it under. */
const BAD: [reason: string, make: (ts: number, i: number) => string][] = [
  ['malformed_json', (ts, i) => JSON.stringify({ ts, values: { volume_total: i } }).slice(0, 20)],
  ['wrong_type', (ts) => JSON.stringify({ ts, values: { volume_total: { not: 'a number' } } })],
  ['no_match', (ts) => JSON.stringify({ ts })],
  ['unknown_metric', (ts, i) => JSON.stringify({ ts, values: { volume_totl: i } })],
  ['oversize', (ts, i) => JSON.stringify({ ts, values: { volume_total: i }, padding: 'x'.repeat(80 * 1024) })],
  // A clock that lost its time (late data a little in the past is kept, #19).
  ['bad_timestamp', (ts, i) => JSON.stringify({ ts: Date.UTC(1980, 0, 1) + (ts % 86_400_000), values: { volume_total: i } })],
];

/**
 * Publisher mode (a separate process): N good QoS 1 messages, at `rate` per second or as fast as
 * a window of 2,000 in flight allows; with `bad`, one bad message after every tenth good one.
 */
async function publish(url: string, n: number, rate: number, bad: boolean, prefix: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}` });
  let sent = 0;
  let acked = 0;
  let out = 0;
  const one = () => {
    const i = sent++;
    const ts = Date.now();
    const topic = `${prefix}/d${i % DEVICES}/up`;
    out++;
    client.publish(topic, JSON.stringify({ ts, values: { volume_total: i } }), { qos: 1 }, () => void acked++);
    if (bad && i % BAD_EVERY === BAD_EVERY - 1) {
      const [, make] = BAD[Math.floor(i / BAD_EVERY) % BAD.length] as (typeof BAD)[number];
      out++;
      client.publish(topic, make(ts, i), { qos: 1 }, () => void acked++);
    }
  };
  if (rate > 0) {
    const start = Date.now();
    while (sent < n) {
      const due = Math.min(n, Math.floor(((Date.now() - start) * rate) / 1000));
      while (sent < due) one();
      await new Promise((r) => setTimeout(r, 2));
    }
  } else {
    while (sent < n) {
      while (sent < n && out - acked < 2000) one();
      await new Promise((r) => setImmediate(r));
    }
  }
  while (acked < out) await new Promise((r) => setTimeout(r, 5));
  await client.endAsync();
}

/** The bare subscriber and the gateway take turns; each has its own topics, so neither sees the other's messages. */
function runPublisher(url: string, n: number, rate: number, bad = false, prefix = 'bench'): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--publish', url, String(n), String(rate), bad ? 'bad' : 'good', prefix], { stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
}

const rateOf = (n: number, first: number, last: number) => Math.round((n / Math.max(1, last - first)) * 1000);

type Latency = { p50_ms: number; p99_ms: number; max_ms: number };
function quantiles(latencies: number[]): Latency {
  const l = [...latencies].sort((x, y) => x - y);
  const q = (p: number) => l[Math.min(l.length - 1, Math.floor(p * l.length))] ?? NaN;
  return { p50_ms: q(0.5), p99_ms: q(0.99), max_ms: l[l.length - 1] ?? NaN };
}

/** The baseline: a mqtt.js QoS 1 subscriber that only counts (and, at a steady rate, times) the same messages. */
async function bare(url: string, n: number, rate: number, bad = false): Promise<{ rate: number; latency: Latency }> {
  // A persistent QoS 1 session, as the gateway's; only ever offline while nothing is published to it.
  const sub = await mqtt.connectAsync(url, { clientId: 'bench-bare', clean: false });
  // With bad input the bare subscriber receives the bad messages too: the rate is of good ones.
  const total = bad ? n + Math.floor(n / BAD_EVERY) : n;
  await sub.subscribeAsync('bare/+/up', { qos: 1 });
  let count = 0;
  let first = 0;
  let last = 0;
  const latencies: number[] = [];
  sub.on('message', (_topic, payload) => {
    last = Date.now();
    if (count++ === 0) first = last;
    if (rate > 0) latencies.push(last - (JSON.parse(payload.toString()) as { ts: number }).ts);
  });
  await runPublisher(url, n, rate, bad, 'bare');
  await waitFor(() => count >= total, 60_000, 20);
  await sub.endAsync();
  return { rate: rateOf(n, first, last), latency: quantiles(latencies) };
}

async function gateway(url: string, dir: string) {
  const config = parseConfig(
    `version: 1
site: { id: bench }
store: { path: ${join(dir, 'bench.db')} }
api: { host: 127.0.0.1, port: ${await freePort()} }
logging: { level: warn }
connections: [{ id: ext, protocol: mqtt, url: "${url}", client_id: bench-gw }]
discover: [{ connection: ext, topic: "bench/{device}/up", profile: generic-json, class: water_meter, id: "{device}", max_devices: ${DEVICES} }]
`,
    'bench.yaml',
    {},
  );
  // The gateway's log lines are counted, not printed: rejections must be logged, rate-limited.
  let logLines = 0;
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const c of chunk) if (c === 10) logLines++;
      cb();
    },
  });
  const gw = Gateway.create({ config, log: createLogger({ level: 'warn', destination }), processMetrics: false, env: { FCGW_SITE_SECRET: 'b'.repeat(32) } });
  await gw.start();
  let count = 0;
  let first = 0;
  let last = 0;
  let latencies: number[] = [];
  gw.ingestor.onCommit((samples) => {
    const now = Date.now();
    if (count === 0) first = now;
    count += samples.length;
    last = now;
    for (const s of samples) latencies.push(now - s.ts);
  });
  return {
    gw,
    reset: () => {
      count = 0;
      latencies = [];
    },
    wait: (n: number) => waitFor(() => count >= n, 120_000, 20),
    rate: (n: number) => rateOf(n, first, last),
    latency: () => quantiles(latencies),
    logLines: () => logLines,
    rejections: async () => {
      const m = await gw.metrics.rejections.get();
      return Object.fromEntries(m.values.map((v) => [String(v.labels['reason']), v.value]));
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const pct = (a: number, b: number) => Math.round((100 * a) / b);

async function main(): Promise<void> {
  const n = Number(process.env['BENCH_MQTT_MESSAGES'] ?? 60_000);
  // The machine is shared and noisy: the two sides take turns, several rounds, and the median
  // round is reported (every round is kept in the result).
  const roundsWanted = Number(process.env['BENCH_MQTT_ROUNDS'] ?? 3);
  const t = tempDir('fcgw-bench-mqtt-');
  const m = await startMosquitto({ dir: t.dir });
  const steady = 5000 * 6;
  try {
    const g = await gateway(m.url, t.dir);
    // Warm up: discovery of the devices, JIT.
    await runPublisher(m.url, DEVICES * 20, 0);
    await g.wait(DEVICES * 20);
    const rounds = [];
    let refused: Record<string, number> = {};
    let logLines = 0;
    let allRefused = true;
    const perKind = Math.floor(n / BAD_EVERY / BAD.length);
    for (let r = 1; r <= roundsWanted; r++) {
      const bareRate = (await bare(m.url, n, 0)).rate;
      g.reset();
      await runPublisher(m.url, n, 0);
      await g.wait(n);
      const gwRate = g.rate(n);
      console.log(`round ${r}: bare mqtt.js QoS 1 subscriber ${bareRate} msg/s; gateway (driver → pipeline → SQLite commit) ${gwRate} msg/s (${pct(gwRate, bareRate)} % of bare)`);

      const bareBad = (await bare(m.url, n, 0, true)).rate;
      g.reset();
      const linesBefore = g.logLines();
      const refusedBefore = await g.rejections();
      await runPublisher(m.url, n, 0, true);
      await g.wait(n);
      const gwBad = g.rate(n);
      const now = await g.rejections();
      refused = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - (refusedBefore[k] ?? 0)]));
      const lines = g.logLines() - linesBefore;
      logLines += lines;
      allRefused &&= BAD.every(([reason]) => (refused[reason] ?? 0) === perKind);
      console.log(`round ${r}: one bad message after every ${BAD_EVERY}th: bare ${bareBad} good msg/s; gateway ${gwBad} good msg/s (${pct(gwBad, bareBad)} % of bare); refused ${JSON.stringify(refused)}; ${lines} log lines`);

      const bareLat = (await bare(m.url, steady, 5000)).latency;
      g.reset();
      await runPublisher(m.url, steady, 5000);
      await g.wait(steady);
      const gwLat = g.latency();
      console.log(`round ${r}: latency at 5,000 msg/s: bare publish-to-receive p50 ${bareLat.p50_ms} / p99 ${bareLat.p99_ms} / max ${bareLat.max_ms} ms; gateway publish-to-commit p50 ${gwLat.p50_ms} / p99 ${gwLat.p99_ms} / max ${gwLat.max_ms} ms`);
      rounds.push({ bare_msgs_per_s: bareRate, gateway_msgs_per_s: gwRate, bad_bare_good_msgs_per_s: bareBad, bad_gateway_good_msgs_per_s: gwBad, bare_latency: bareLat, gateway_latency: gwLat });
    }
    await g.gw.stop();

    const med = {
      bare: median(rounds.map((r) => r.bare_msgs_per_s)),
      gateway: median(rounds.map((r) => r.gateway_msgs_per_s)),
      ratio: median(rounds.map((r) => r.gateway_msgs_per_s / r.bare_msgs_per_s)),
      badBare: median(rounds.map((r) => r.bad_bare_good_msgs_per_s)),
      badGateway: median(rounds.map((r) => r.bad_gateway_good_msgs_per_s)),
      badRatio: median(rounds.map((r) => r.bad_gateway_good_msgs_per_s / r.bad_bare_good_msgs_per_s)),
      p99: median(rounds.map((r) => r.gateway_latency.p99_ms)),
      p50: median(rounds.map((r) => r.gateway_latency.p50_ms)),
      bareP99: median(rounds.map((r) => r.bare_latency.p99_ms)),
    };
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const result = {
      bench: 'mqtt',
      node: process.version,
      at: new Date().toISOString(),
      messages: n,
      rounds: rounds.length,
      bare_msgs_per_s: med.bare,
      gateway_msgs_per_s: med.gateway,
      ratio: r2(med.ratio),
      with_bad_input: { bare_good_msgs_per_s: med.badBare, good_msgs_per_s: med.badGateway, ratio: r2(med.badRatio), refused_per_round: refused, all_refused: allRefused, log_lines_all_rounds: logLines },
      latency_at_5000_per_s: { p50_ms: med.p50, p99_ms: med.p99 },
      bare_latency_at_5000_per_s: { p99_ms: med.bareP99 },
      goal: { ratio: 0.5, msgs_per_s: 20_000, p99_ms: 100 },
      met: med.ratio >= 0.5 && med.gateway >= 20_000 && med.p99 < 100 && allRefused && med.badRatio >= 0.5,
      per_round: rounds,
    };
    console.log(`median of ${rounds.length} rounds: gateway ${med.gateway} msg/s = ${pct(med.ratio, 1)} % of bare; with bad input ${pct(med.badRatio, 1)} % of bare; p99 ${med.p99} ms (bare ${med.bareP99} ms)`);
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'mqtt.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await m.stop();
    t.cleanup();
  }
}

if (process.argv[2] === '--publish') await publish(process.argv[3] as string, Number(process.argv[4]), Number(process.argv[5]), process.argv[6] === 'bad', process.argv[7] as string);
else await main();
