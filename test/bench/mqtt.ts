// Bench: MQTT ingest end to end — a publisher process → Mosquitto → the gateway's MQTT driver →
// committed in SQLite — side by side, in the same run, with a bare mqtt.js QoS 1 subscriber
// counting the same messages from the same publisher. Then the publish-to-commit latency at a
// steady 5,000 msg/s. Writes test/bench/results/mqtt.json.
//   node --import tsx test/bench/mqtt.ts            (BENCH_MQTT_MESSAGES=60000 by default)
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { Gateway } from '../../gateway/app.js';
import { parseConfig } from '../../gateway/config/load.js';
import { createLogger } from '../../gateway/runtime/log.js';
import { freePort, tempDir, waitFor } from '../helpers/peers.js';
import { startMosquitto } from '../integration/mqtt/mosquitto.js';

const DEVICES = 100;

/** Publisher mode (a separate process): N QoS 1 messages, at `rate` per second or as fast as a window of 2,000 in flight allows. */
async function publish(url: string, n: number, rate: number): Promise<void> {
  const client = await mqtt.connectAsync(url, { clientId: `bench-pub-${process.pid}` });
  let sent = 0;
  let acked = 0;
  const one = () => {
    const i = sent++;
    const body = JSON.stringify({ ts: Date.now(), values: { volume_total: i } });
    client.publish(`bench/d${i % DEVICES}/up`, body, { qos: 1 }, () => void acked++);
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
      while (sent < n && sent - acked < 2000) one();
      await new Promise((r) => setImmediate(r));
    }
  }
  while (acked < n) await new Promise((r) => setTimeout(r, 5));
  await client.endAsync();
}

function runPublisher(url: string, n: number, rate: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--publish', url, String(n), String(rate)], { stdio: 'inherit' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
}

const rateOf = (n: number, first: number, last: number) => Math.round((n / Math.max(1, last - first)) * 1000);

async function bare(url: string, n: number): Promise<number> {
  const sub = await mqtt.connectAsync(url, { clientId: 'bench-bare', clean: false });
  await sub.subscribeAsync('bench/+/up', { qos: 1 });
  let count = 0;
  let first = 0;
  let last = 0;
  sub.on('message', () => {
    if (count++ === 0) first = Date.now();
    last = Date.now();
  });
  await runPublisher(url, n, 0);
  await waitFor(() => count >= n, 60_000, 20);
  await sub.endAsync();
  return rateOf(n, first, last);
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
  const gw = Gateway.create({ config, log: createLogger({ level: 'warn' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'b'.repeat(32) } });
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
    latency: () => {
      const l = [...latencies].sort((a, b) => a - b);
      const q = (p: number) => l[Math.min(l.length - 1, Math.floor(p * l.length))] ?? NaN;
      return { p50_ms: q(0.5), p99_ms: q(0.99), max_ms: l[l.length - 1] ?? NaN };
    },
  };
}

async function main(): Promise<void> {
  const n = Number(process.env['BENCH_MQTT_MESSAGES'] ?? 60_000);
  const t = tempDir('fcgw-bench-mqtt-');
  const m = await startMosquitto({ dir: t.dir });
  try {
    const bareRate = await bare(m.url, n);
    console.log(`bare mqtt.js QoS 1 subscriber: ${bareRate} msg/s`);
    const g = await gateway(m.url, t.dir);
    // Warm up: discovery of the devices, JIT.
    await runPublisher(m.url, DEVICES * 20, 0);
    await g.wait(DEVICES * 20);
    g.reset();
    await runPublisher(m.url, n, 0);
    await g.wait(n);
    const gwRate = g.rate(n);
    console.log(`gateway (driver → pipeline → SQLite commit): ${gwRate} msg/s (${Math.round((100 * gwRate) / bareRate)} % of bare)`);
    g.reset();
    const steady = 5000 * 6;
    await runPublisher(m.url, steady, 5000);
    await g.wait(steady);
    const lat = g.latency();
    console.log(`publish-to-commit latency at 5,000 msg/s: p50 ${lat.p50_ms} ms, p99 ${lat.p99_ms} ms, max ${lat.max_ms} ms`);
    await g.gw.stop();
    const result = {
      bench: 'mqtt',
      node: process.version,
      at: new Date().toISOString(),
      messages: n,
      bare_msgs_per_s: bareRate,
      gateway_msgs_per_s: gwRate,
      ratio: Math.round((gwRate / bareRate) * 100) / 100,
      goal: { ratio: 0.5, msgs_per_s: 20_000, p99_ms: 100 },
      latency_at_5000_per_s: lat,
      met: gwRate >= bareRate / 2 && gwRate >= 20_000 && lat.p99_ms < 100,
    };
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'mqtt.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await m.stop();
    t.cleanup();
  }
}

if (process.argv[2] === '--publish') await publish(process.argv[3] as string, Number(process.argv[4]), Number(process.argv[5]));
else await main();
