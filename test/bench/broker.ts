// Bench: the embedded broker under a bounded flood from loopback (issue 14), with an HTTP
// server in the same process standing in for /api/health (same event loop). An attacker
// process: 4 sockets whose CONNECT declares 250 MB and streams it; 100 parallel logins with
// wrong passwords; 1,000 sockets that never log in. Meanwhile a QoS 1 device publishes
// throughout and every acknowledged message must have reached the interceptor (the store's
// place).
// Writes test/bench/results/broker.json.   node --import tsx test/bench/broker.ts
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { connectAsync } from 'mqtt';
import { EmbeddedBroker } from '../../gateway/broker/embedded.js';
import { hashPassword } from '../../gateway/broker/passwords.js';
import { configSchema } from '../../gateway/config/schema.js';
import { createLogger } from '../../gateway/runtime/log.js';

const ATTACKER = `
import { connect } from 'node:net';
import mqtt from 'mqtt';
const [port, phase] = process.argv.slice(1);
const sock = () => new Promise((res, rej) => { const s = connect(+port, '127.0.0.1', () => res(s)); s.on('error', () => res(s)); });
if (phase === 'connect250') {
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  const one = async () => {
    const s = await sock();
    let sent = 0;
    await new Promise((done) => {
      s.once('close', done);
      s.write(Buffer.from([0x10, 0x80, 0x80, 0x80, 0x78 + 0x01]));
      const pump = () => { while (sent < 250 * 1024 * 1024 && !s.destroyed) { sent += chunk.length; if (!s.write(chunk)) return void s.once('drain', pump); } s.end(); };
      pump();
    });
    return sent;
  };
  const sent = await Promise.all([one(), one(), one(), one()]);
  console.log(JSON.stringify({ sent }));
} else if (phase === 'badlogins') {
  const codes = await Promise.all(Array.from({ length: 100 }, (_, i) => mqtt.connectAsync('mqtt://127.0.0.1:' + port, { username: 'meter', password: 'guess-' + i, clientId: 'meter-' + i, reconnectPeriod: 0, connectTimeout: 30000 }).then((c) => { c.end(true); return 0; }, (e) => e.code ?? -1)));
  console.log(JSON.stringify({ codes: codes.reduce((m, c) => ((m[c] = (m[c] ?? 0) + 1), m), {}) }));
} else if (phase === 'raw1000') {
  const socks = await Promise.all(Array.from({ length: 1000 }, sock));
  await new Promise((r) => setTimeout(r, 3000));
  const open = socks.filter((s) => !s.destroyed).length;
  for (const s of socks) s.destroy();
  console.log(JSON.stringify({ open }));
}
`;

function attack(port: number, phase: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', ATTACKER, String(port), phase], { cwd: join(import.meta.dirname, '../..'), stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>) : reject(new Error(`attacker ${phase} exit ${code}`))));
  });
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;
const mb = (b: number) => Math.round(b / 1e6);

async function main(): Promise<void> {
  const cfg = configSchema.parse({
    version: 1,
    site: { id: 'bench' },
    broker: { embedded: { host: '127.0.0.1', port: 0, users: [{ username: 'meter', password_hash: hashPassword('meter-pass-1'), publish: ['meters/#'] }] } },
  }).broker.embedded;
  if (!cfg) throw new Error('no broker config');
  const broker = new EmbeddedBroker(cfg, createLogger({ level: 'silent' }));
  await broker.start();
  const stored = new Set<string>();
  broker.intercept((_t, p) => void stored.add(p.toString()));
  broker.open();

  const http = createServer((_req, res) => res.end('{"status":"ok"}'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const httpPort = (http.address() as AddressInfo).port;
  const probe = (ms: number) => {
    const lat: number[] = [];
    let on = true;
    const loop = async () => {
      while (on) {
        const t0 = performance.now();
        await new Promise<void>((r) => get({ host: '127.0.0.1', port: httpPort, path: '/api/health' }, (res) => res.resume().on('end', () => r())).on('error', () => r()));
        lat.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, ms));
      }
    };
    const running = loop();
    return async () => {
      on = false;
      await running;
      return { p50: +pct(lat, 0.5).toFixed(1), p99: +pct(lat, 0.99).toFixed(1), max: +Math.max(...lat).toFixed(1), n: lat.length };
    };
  };

  // A QoS 1 device publishing throughout; what it was told is delivered must be stored.
  const device = await connectAsync(broker.url, { username: 'meter', password: 'meter-pass-1', clientId: 'meter', reconnectPeriod: 500 });
  const acked: string[] = [];
  let deviceOn = true;
  const deviceLoop = (async () => {
    for (let i = 0; deviceOn; i++) {
      await device.publishAsync('meters/m1', `m${i}`, { qos: 1 }).then(() => acked.push(`m${i}`), () => undefined);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();

  await new Promise((r) => setTimeout(r, 1000));
  const idleRss = process.memoryUsage().rss;
  const result: Record<string, unknown> = { bench: 'broker', node: process.version, at: new Date().toISOString(), idle_rss_mb: mb(idleRss) };

  let peak = idleRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  for (const phase of ['connect250', 'badlogins', 'raw1000']) {
    peak = process.memoryUsage().rss;
    const stop = probe(10);
    // A probe request only measures the loop while it runs; the loop's own delay shows a block.
    const lag = monitorEventLoopDelay({ resolution: 10 });
    lag.enable();
    const t0 = performance.now();
    const out = await attack(broker.port, phase);
    lag.disable();
    const health = await stop();
    await new Promise((r) => setTimeout(r, 1000));
    result[phase] = { ...out, seconds: +((performance.now() - t0) / 1000).toFixed(1), health_ms: health, loop_delay_ms: { p99: +(lag.percentile(99) / 1e6).toFixed(1), max: +(lag.max / 1e6).toFixed(1) }, peak_rss_mb: mb(peak), rss_after_mb: mb(process.memoryUsage().rss) };
    console.log(phase, JSON.stringify(result[phase]));
  }
  clearInterval(sampler);
  deviceOn = false;
  await deviceLoop;
  result['device'] = { acked: acked.length, acked_not_stored: acked.filter((m) => !stored.has(m)).length };
  await device.endAsync();

  http.close();
  await broker.stop();

  console.log(JSON.stringify(result, null, 2));
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', 'broker.json'), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
