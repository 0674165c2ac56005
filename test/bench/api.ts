// Bench: the HTTP API under a bounded flood from loopback, against `fcgw start` in its own
// process, while a QoS 1 device publishes throughout: 200 slow-header sockets (a header line a
// second, never finished), then 1,000 /api/live streams that never read, spread over 125 client
// addresses. Measured: how long slow-header sockets live, how many streams are accepted, the
// gateway's RSS over its idle level, /api/health latency for an authorised client, and that
// every acknowledged device message is stored.
// Writes test/bench/results/api.json.
//   node --import tsx test/bench/api.ts   (BENCH_API_RATE=200 msg/s, BENCH_API_HOLD_S=15, BENCH_API_SLOW_S=20)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { freePort, tempDir, waitFor } from '../helpers/peers.js';

const RATE = Number(process.env['BENCH_API_RATE'] ?? 200);
const HOLD_S = Number(process.env['BENCH_API_HOLD_S'] ?? 15);
const SLOW_S = Number(process.env['BENCH_API_SLOW_S'] ?? 20);
const SLOW_SOCKETS = 200;
const LIVE = 1000;
const TOKEN = 'bench-api-token-0123456789';
const DEVICES = 20;

const { dir, cleanup } = tempDir('fcgw-bench-api-');
const [apiPort, mqttPort] = [await freePort(), await freePort()];
const file = join(dir, 'gw.yaml');
writeFileSync(
  file,
  `version: 1
site: { id: bench }
store: { path: ${join(dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${mqttPort} } }
api: { host: 127.0.0.1, port: ${apiPort}, tokens: [${TOKEN}] }
logging: { level: error }
connections: [{ id: local, protocol: mqtt, url: embedded }]
devices: [${Array.from({ length: DEVICES }, (_, i) => `{ id: m-${i}, class: grid_meter, connection: local, profile: generic-json }`).join(', ')}]
`,
);
const gw = await startGatewayProcess(file);
const rssMB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gw.proc.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

function health(): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: apiPort, path: '/api/health', agent, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : reject(new Error(`health ${res.statusCode}`))));
    });
    req.setTimeout(10_000, () => req.destroy(new Error('health timed out')));
    req.on('error', reject);
    req.end();
  });
}
async function latencies(ms: number): Promise<number[]> {
  const out: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    out.push(await health());
    await new Promise((r) => setTimeout(r, 20));
  }
  return out;
}
const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round((s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN) * 10) / 10;
};

// A QoS 1 device throughout: every acknowledged message must end up stored.
const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { clientId: 'bench-device' });
let published = 0;
let acked = 0;
const publisher = setInterval(() => {
  for (let i = 0; i < RATE / 20; i++) {
    const n = published++;
    device.publish(`devices/m-${n % DEVICES}/up`, JSON.stringify({ ts: Date.now(), values: { power: n } }), { qos: 1 }, (err) => {
      if (!err) acked++;
    });
  }
}, 50);

await new Promise((r) => setTimeout(r, 3000));
const idleRss = rssMB();
const idleLat = await latencies(3000);
let peakRss = idleRss;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssMB())), 250);

// 1. Slow-header sockets.
const slowStart = Date.now();
const slowClosed: number[] = [];
const slow: Socket[] = [];
for (let i = 0; i < SLOW_SOCKETS; i++) {
  const s = connect({ host: '127.0.0.1', port: apiPort });
  s.on('error', () => undefined);
  s.on('close', () => slowClosed.push((Date.now() - slowStart) / 1000));
  s.write('GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
  slow.push(s);
}
let line = 0;
const drip = setInterval(() => {
  for (const s of slow) if (!s.destroyed) s.write(`X-Slow-${line}: 1\r\n`);
  line++;
}, 1000);
const slowLat = await latencies(SLOW_S * 1000);
clearInterval(drip);
const slowOpenAtEnd = SLOW_SOCKETS - slowClosed.length;
for (const s of slow) s.destroy();

// 2. Live streams that never read.
const statuses: Record<string, number> = {};
const live: Socket[] = [];
await Promise.all(
  Array.from({ length: LIVE }, (_, i) => {
    return new Promise<void>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: apiPort, localAddress: `127.0.0.${1 + (i % 125)}` });
      live.push(s);
      s.on('error', () => resolve());
      s.once('data', (d: Buffer) => {
        const code = /^HTTP\/1\.1 (\d+)/.exec(d.toString())?.[1] ?? 'other';
        statuses[code] = (statuses[code] ?? 0) + 1;
        s.pause();
        resolve();
      });
      s.write(`GET /api/live HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    });
  }),
);
const liveLat = await latencies(HOLD_S * 1000);
const metrics = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
for (const s of live) s.destroy();
clearInterval(rssTimer);

clearInterval(publisher);
await waitFor(() => acked === published, 30_000);
await device.endAsync();
const stored = await waitFor(async () => {
  const m = await (await fetch(`http://127.0.0.1:${apiPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
  const n = [...m.matchAll(/^fcgw_ingest_samples_total\{[^}]*\} (\d+)/gm)].reduce((a, x) => a + Number(x[1]), 0);
  return n >= acked ? n : undefined;
}, 30_000).catch(() => -1);

gw.proc.kill('SIGTERM');
await gw.exited;
cleanup();

const result = {
  bench: 'api',
  node: process.version,
  at: new Date().toISOString(),
  settings: { device_msgs_per_s: RATE, slow_sockets: SLOW_SOCKETS, slow_window_s: SLOW_S, live_attempts: LIVE, live_hold_s: HOLD_S },
  idle_rss_mb: Math.round(idleRss),
  peak_rss_over_idle_mb: Math.round(peakRss - idleRss),
  health_ms: {
    idle: { p50: pct(idleLat, 0.5), p99: pct(idleLat, 0.99) },
    slow_headers: { p50: pct(slowLat, 0.5), p99: pct(slowLat, 0.99) },
    live_flood: { p50: pct(liveLat, 0.5), p99: pct(liveLat, 0.99) },
  },
  slow_headers: { closed: slowClosed.length, still_open_after_window: slowOpenAtEnd, first_closed_s: pct(slowClosed, 0), last_closed_s: pct(slowClosed, 1) },
  live_statuses: statuses,
  live_dropped: Number(/fcgw_live_dropped_total\{reason="slow_reader"\} (\d+)/.exec(metrics)?.[1] ?? 0),
  device: { published, acked, stored, lost: acked - stored },
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'api.json'), `${JSON.stringify(result, null, 2)}\n`);
process.exit(0);
