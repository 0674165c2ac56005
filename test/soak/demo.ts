// Soak: the whole demo community (every simulator, every driver, store, KPIs, dashboard API) as a
// real `fcgw start` process at accelerated simulated time, for SOAK_MINUTES of wall time. The
// gateway's RSS and JS heap are read from its own /metrics every SOAK_EVERY seconds; the result
// is the growth over the second half of the run (after warm-up), which must stay near zero.
// `npm run soak` (default 10 minutes) writes test/soak/results/demo.json. Not part of `npm test`.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { relocatedDemo } from '../helpers/demo.js';
import { tempDir, waitFor } from '../helpers/peers.js';
import { metricSum } from '../helpers/metrics-text.js';

const MINUTES = Number(process.env['SOAK_MINUTES'] ?? 10);
const EVERY_S = Number(process.env['SOAK_EVERY'] ?? 10);
const SPEED = Number(process.env['SOAK_SPEED'] ?? 60);
const BIN = join(import.meta.dirname, '../../bin/fcgw.js');

interface Point {
  t_s: number;
  rss_mb: number;
  heap_mb: number;
  samples: number;
  db_mb: number;
}


/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += ((xs[i] as number) - mx) * ((ys[i] as number) - my);
    den += ((xs[i] as number) - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const dir = tempDir('fcgw-soak-');
const { configFile, ports } = await relocatedDemo(dir.dir, (doc) => {
  doc.setIn(['simulators', 'speed'], SPEED);
  doc.setIn(['logging', 'level'], 'warn');
});
const apiPort = ports.get(8080);
const api = `http://127.0.0.1:${apiPort}`;
const logFile = join(dir.dir, 'gateway.log');
const out = openSync(logFile, 'a');
const proc = spawn(process.execPath, [BIN, 'start', '-c', configFile], {
  env: { ...process.env, FCGW_SITE_SECRET: 'soak-secret-0123456789abcdef' },
  stdio: ['ignore', out, out],
});
const points: Point[] = [];
const started = Date.now();
try {
  await waitFor(async () => (await fetch(`${api}/api/health`).catch(() => undefined))?.ok, 60_000, 500);
  console.log(`soak: demo at ${SPEED}× for ${MINUTES} min, sampling every ${EVERY_S} s (log: ${logFile})`);
  const end = started + MINUTES * 60_000;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`the gateway exited (${proc.exitCode}) during the soak; see ${logFile}`);
    const text = await (await fetch(`${api}/metrics`)).text();
    const p: Point = {
      t_s: Math.round((Date.now() - started) / 1000),
      rss_mb: metricSum(text, 'fcgw_process_process_resident_memory_bytes') / 2 ** 20,
      heap_mb: metricSum(text, 'fcgw_process_nodejs_heap_size_used_bytes') / 2 ** 20,
      samples: metricSum(text, 'fcgw_ingest_samples_total'),
      db_mb: metricSum(text, 'fcgw_store_bytes') / 2 ** 20,
    };
    points.push(p);
    console.log(`  t=${p.t_s}s rss=${p.rss_mb.toFixed(1)}MB heap=${p.heap_mb.toFixed(1)}MB samples=${p.samples}`);
    await new Promise((r) => setTimeout(r, EVERY_S * 1000));
  }
} finally {
  proc.kill('SIGTERM');
  await new Promise((r) => proc.once('exit', r));
}

const half = points.slice(Math.floor(points.length / 2));
const hours = (xs: Point[]) => xs.map((p) => p.t_s / 3600);
const last = points.at(-1);
const result = {
  soak: 'demo',
  wall_minutes: MINUTES,
  speed: SPEED,
  simulated_hours: Number(((MINUTES / 60) * SPEED).toFixed(1)),
  samples_ingested: last?.samples ?? 0,
  rss_mb: { first: points[0]?.rss_mb.toFixed(1), max: Math.max(...points.map((p) => p.rss_mb)).toFixed(1), last: last?.rss_mb.toFixed(1) },
  heap_mb: { first: points[0]?.heap_mb.toFixed(1), max: Math.max(...points.map((p) => p.heap_mb)).toFixed(1), last: last?.heap_mb.toFixed(1) },
  // Growth over the second half, extrapolated per wall hour: near zero when nothing leaks.
  rss_growth_mb_per_hour: Number(slope(hours(half), half.map((p) => p.rss_mb)).toFixed(1)),
  heap_growth_mb_per_hour: Number(slope(hours(half), half.map((p) => p.heap_mb)).toFixed(1)),
  points,
  node: process.version,
  at: new Date().toISOString(),
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results/demo.json'), `${JSON.stringify(result, null, 2)}\n`);
const { points: _p, ...summary } = result;
console.log(JSON.stringify(summary));
dir.cleanup();
