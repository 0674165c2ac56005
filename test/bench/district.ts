// Bench: what one community costs the district (docs/district.md). The full demo (`fcgw start`
// on config/demo.yaml, relocated, real time) runs BENCH_SECONDS with three northbound sinks, each
// through a byte-counting TCP proxy standing for the WAN: InfluxDB v2 API with gzip (the default)
// and without, into a real VictoriaMetrics, and MQTT (QoS 1) into a real Mosquitto, KPIs at their
// default rate (running windows every 5 min) included. Reports samples/s, WAN bytes per
// sample and per day per sink, KPI bytes per record, and store bytes per sample (the file's growth:
// what a week-long WAN outage needs). Writes test/bench/results/district.json.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { relocatedDemo } from '../helpers/demo.js';
import { startGatewayProcess } from '../helpers/gateway-process.js';
import { freePort, killAndWait } from '../helpers/peers.js';
import { startVictoriaMetrics } from '../helpers/servers.js';
import { startMosquitto } from '../integration/mqtt/mosquitto.js';
import { startEnv } from '../helpers/start-env.js';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 300);
const WARMUP = 30;
/** The sinks' flush_interval (BENCH_FLUSH=10s shows what longer batches save). */
const FLUSH = process.env['BENCH_FLUSH'] ?? '1s';

async function countingProxy(target: number): Promise<{ port: number; up: () => number; close: () => void }> {
  let up = 0;
  const port = await freePort();
  const sockets = new Set<Socket>();
  const server = createServer((c) => {
    const t = connect(target, '127.0.0.1');
    for (const s of [c, t]) {
      sockets.add(s);
      s.on('error', () => undefined);
    }
    c.on('data', (b: Buffer) => (up += b.length));
    c.pipe(t).pipe(c);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { port, up: () => up, close: () => (sockets.forEach((s) => s.destroy()), server.close()) };
}

const dir = mkdtempSync(join(tmpdir(), 'fcgw-bench-district-'));
const vm = await startVictoriaMetrics(dir);
const mosq = await startMosquitto({ dir });
const proxies = { gzip: await countingProxy(vm.port), plain: await countingProxy(vm.port), mqtt: await countingProxy(mosq.port) };
try {
  const demo = await relocatedDemo(dir, (doc) => {
    doc.setIn(['logging', 'level'], 'warn');
    doc.addIn(['connections'], doc.createNode({ id: 'wan-mqtt', protocol: 'mqtt', url: `mqtt://127.0.0.1:${proxies.mqtt.port}`, client_id: 'bench' }));
    doc.set(
      'sinks',
      doc.createNode([
        { id: 'gzip', type: 'influxdb2', url: `http://127.0.0.1:${proxies.gzip.port}`, token: 't', org: 'd', bucket: 'b', gzip: true, flush_interval: FLUSH },
        { id: 'plain', type: 'influxdb2', url: `http://127.0.0.1:${proxies.plain.port}`, token: 't', org: 'd', bucket: 'b', gzip: false, flush_interval: FLUSH },
        { id: 'mqtt', type: 'mqtt', connection: 'wan-mqtt', qos: 1, flush_interval: FLUSH },
      ]),
    );
  });
  const g = await startGatewayProcess(demo.configFile, startEnv(), 120_000);
  const storeBytes = () => ['', '-wal'].reduce((s, x) => s + (statSync(join(dir, `demo.db${x}`), { throwIfNoEntry: false })?.size ?? 0), 0);
  const sent = async () => {
    const text = await (await fetch(`${g.apiUrl}/metrics`)).text();
    const v = (sink: string, log: string) => Number(new RegExp(`fcgw_sink_sent_total\\{sink="${sink}",log="${log}"\\} (\\d+)`).exec(text)?.[1] ?? 0);
    return Object.fromEntries(['gzip', 'plain', 'mqtt'].map((s) => [s, { samples: v(s, 'samples'), events: v(s, 'events'), kpis: v(s, 'kpis') }]));
  };
  await new Promise((r) => setTimeout(r, WARMUP * 1000));
  const a = { t: performance.now(), sent: await sent(), bytes: { gzip: proxies.gzip.up(), plain: proxies.plain.up(), mqtt: proxies.mqtt.up() }, store: storeBytes() };
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const b = { t: performance.now(), sent: await sent(), bytes: { gzip: proxies.gzip.up(), plain: proxies.plain.up(), mqtt: proxies.mqtt.up() }, store: storeBytes() };
  await killAndWait(g.proc, 'SIGTERM');
  const secs = (b.t - a.t) / 1000;
  const per = Object.fromEntries(
    (['gzip', 'plain', 'mqtt'] as const).map((s) => {
      const records = (b.sent[s]?.samples ?? 0) - (a.sent[s]?.samples ?? 0) + (b.sent[s]?.events ?? 0) - (a.sent[s]?.events ?? 0) + (b.sent[s]?.kpis ?? 0) - (a.sent[s]?.kpis ?? 0);
      const bytes = b.bytes[s] - a.bytes[s];
      return [s, { records, recordsPerSecond: Math.round(records / secs), bytesPerRecord: +(bytes / records).toFixed(1), mbPerDay: +((bytes / secs) * 86_400 / 1e6).toFixed(1) }];
    }),
  );
  const samples = (b.sent['gzip']?.samples ?? 0) - (a.sent['gzip']?.samples ?? 0);
  const result = {
    bench: 'district',
    node: process.version,
    at: new Date().toISOString(),
    seconds: Math.round(secs),
    flushInterval: FLUSH,
    samplesPerSecond: Math.round(samples / secs),
    sinks: per,
    storeBytesPerSample: +((b.store - a.store) / samples).toFixed(1),
    storeGbPer7Days: +((((b.store - a.store) / secs) * 7 * 86_400) / 1e9).toFixed(2),
  };
  console.log(JSON.stringify(result, null, 2));
  writeFileSync(join(import.meta.dirname, 'results', FLUSH === '1s' ? 'district.json' : `district-${FLUSH}.json`), `${JSON.stringify(result, null, 2)}\n`);
} finally {
  for (const p of Object.values(proxies)) p.close();
  await mosq.stop();
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
