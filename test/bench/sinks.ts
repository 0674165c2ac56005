// Bench: backlog drain rate of the influxdb2 sink into a real VictoriaMetrics (InfluxDB v2 write
// API, gzip), in samples/s, for a few batch sizes; beside it the rate of reading and encoding the
// same backlog without sending (the sink's own ceiling). Writes test/bench/results/sinks.json.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { Registry } from 'prom-client';
import { parseConfig } from '../../gateway/config/load.js';
import { systemClock } from '../../gateway/model/clock.js';
import type { Sample } from '../../gateway/model/types.js';
import { createSinks } from '../../gateway/sinks/index.js';
import { LineEncoder } from '../../gateway/sinks/line-protocol.js';
import { Store } from '../../gateway/store/store.js';
import { startVictoriaMetrics } from '../helpers/servers.js';

const TOTAL = Number(process.env['BENCH_SAMPLES'] ?? 500_000);
const SERIES = 500;
const BATCHES = (process.env['BENCH_BATCHES'] ?? '5000,20000').split(',').map(Number);
const GOAL = 100_000;

const dir = mkdtempSync(join(tmpdir(), 'fcgw-bench-sinks-'));
const vm = await startVictoriaMetrics(dir);
try {
  const store = Store.open({ path: join(dir, 'bench.db'), site: 'bench' });
  // Recent timestamps: VictoriaMetrics refuses samples older than its retention.
  const t0 = Date.now() - 86_400_000;
  const steps = Math.ceil(TOTAL / SERIES);
  const chunk: Sample[] = [];
  for (let step = 0; step < steps; step++) {
    for (let s = 0; s < SERIES; s++) {
      const metric = s % 2 ? 'power' : 'import_total';
      chunk.push({ site: 'bench', device: `meter-${Math.floor(s / 2)}`, class: 'grid_meter', metric, ts: t0 + step * 1000, value: metric === 'power' ? (step % 100) * 10.5 : step * 2.5, quality: 'good' });
    }
    if (chunk.length >= 20_000) store.write(chunk.splice(0));
  }
  store.write(chunk.splice(0));
  const total = store.maxSeq().samples;

  // Ceiling: read the log and encode it, no network.
  const enc = new LineEncoder((d) => store.deviceTags(d));
  let t = performance.now();
  let bytes = 0;
  for (let seq = 0; ; ) {
    const rows = store.samplesAfter(seq, 5000);
    if (rows.length === 0) break;
    for (const r of rows) bytes += enc.sample(r).length + 1;
    seq = (rows[rows.length - 1] as { seq: number }).seq;
  }
  const readEncode = Math.round(total / ((performance.now() - t) / 1000));

  const rates: Record<string, number> = {};
  for (const batch of BATCHES) {
    const id = `vm-${batch}`;
    const config = parseConfig(
      JSON.stringify({ version: 1, site: { id: 'bench' }, sinks: [{ id, type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'bench', batch_size: batch, flush_interval: '10ms', start_from: 'earliest' }] }),
    );
    const sinks = createSinks(config, store, { clock: systemClock, log: pino({ level: 'warn' }), registry: new Registry() });
    t = performance.now();
    await sinks.start();
    const deadline = Date.now() + 300_000;
    while ((store.getCursor(`sink:${id}`)?.samples ?? 0) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const secs = (performance.now() - t) / 1000;
    await sinks.stop();
    rates[String(batch)] = Math.round(total / secs);
    console.log(`batch ${batch}: ${total} samples in ${secs.toFixed(2)} s = ${rates[String(batch)]} samples/s`);
  }
  await vm.flush();
  const best = Math.max(...Object.values(rates));
  const result = {
    bench: 'sinks',
    target: 'VictoriaMetrics (InfluxDB v2 write API, gzip) on loopback',
    samples: total,
    series: SERIES,
    line_bytes_per_sample: Math.round(bytes / total),
    drain_samples_per_s_by_batch: rates,
    drain_samples_per_s: best,
    read_encode_samples_per_s: readEncode,
    // Side by side in one run: how much of the sink's own ceiling the network round trip leaves.
    drain_vs_read_encode: Math.round((best / readEncode) * 100) / 100,
    goal: `>= ${GOAL.toLocaleString('en')} samples/s`,
    met: best >= GOAL,
    node: process.version,
    at: new Date().toISOString(),
  };
  writeFileSync(join(import.meta.dirname, 'results', 'sinks.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(result);
  store.close();
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
