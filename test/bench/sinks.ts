// Bench: backlog drain rate of the influxdb2 sink into a real VictoriaMetrics (InfluxDB v2 write
// API, gzip), in samples/s, for a few batch sizes; beside it the rate of reading and encoding the
// same backlog without sending (the sink's own ceiling). Then, in alternating rounds, the sink's
// drain beside a bare @influxdata/influxdb-client write API sending the same lines to the same
// VictoriaMetrics (batches of 5,000, gzip): the ratio is the figure. Writes test/bench/results/sinks.json.
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
import { previousResult } from '../helpers/bench-previous.js';

const TOTAL = Number(process.env['BENCH_SAMPLES'] ?? 500_000);
const SERIES = 500;
const BATCHES = (process.env['BENCH_BATCHES'] ?? '5000,20000').split(',').map(Number);
const GOAL = 100_000;
const ROUNDS = Number(process.env['BENCH_SINK_ROUNDS'] ?? 3);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

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
  const load0 = loadavg()[0] as number;

  // The same lines for the bare client, built before its clock starts.
  const lines: string[] = [];
  for (let seq = 0; ; ) {
    const rows = store.samplesAfter(seq, 5000);
    if (rows.length === 0) break;
    for (const r of rows) lines.push(enc.sample(r));
    seq = (rows[rows.length - 1] as { seq: number }).seq;
  }
  const drainOnce = async (id: string, batch: number) => {
    const config = parseConfig(
      JSON.stringify({ version: 1, site: { id: 'bench' }, sinks: [{ id, type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'bench', batch_size: batch, flush_interval: '10ms', start_from: 'earliest' }] }),
    );
    const sinks = createSinks(config, store, { clock: systemClock, log: pino({ level: 'warn' }), registry: new Registry() });
    const t1 = performance.now();
    await sinks.start();
    const deadline = Date.now() + 300_000;
    while ((store.getCursor(`sink:${id}`)?.samples ?? 0) < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const secs = (performance.now() - t1) / 1000;
    await sinks.stop();
    return Math.round(total / secs);
  };
  // The same records as the bare client's Points: a user of the bare client holds readings and
  // writes Points (the client encodes them); read into memory before its clock starts.
  const records: Sample[] = [];
  for (let seq = 0; ; ) {
    const rows = store.samplesAfter(seq, 5000);
    if (rows.length === 0) break;
    records.push(...rows);
    seq = (rows[rows.length - 1] as { seq: number }).seq;
  }
  const bareOnce = async (what: 'points' | 'lines') => {
    // Every batch is sent at once (the client does not wait for one before the next): the clock
    // stops when VictoriaMetrics acknowledged the last line.
    let acked = 0;
    let failed = 0;
    const api = new InfluxDB({ url: vm.url, token: 't' }).getWriteApi('fc', 'bench', 'ms', {
      batchSize: 5000,
      flushInterval: 0,
      maxRetries: 0,
      writeSuccess: (l: string[]) => void (acked += l.length),
      writeFailed: (_e: Error, l: string[]) => void (failed += l.length),
    });
    const t1 = performance.now();
    if (what === 'lines') api.writeRecords(lines);
    else for (const r of records) api.writePoint(new Point(r.class).tag('site', r.site).tag('device', r.device).floatField(r.metric, r.value as number).timestamp(r.ts));
    await api.flush();
    while (acked + failed < lines.length) await new Promise((r) => setTimeout(r, 2));
    const secs = (performance.now() - t1) / 1000;
    await api.close();
    if (failed) throw new Error(`bare client: ${failed} lines failed`);
    return Math.round(total / secs);
  };
  const sideBySide: { sink: number; bare_client: number; bare_client_lines: number }[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? (['bare', 'lines', 'sink'] as const) : (['sink', 'bare', 'lines'] as const);
    const r = { sink: 0, bare_client: 0, bare_client_lines: 0 };
    for (const which of order) {
      if (which === 'sink') r.sink = await drainOnce(`vs-${round}`, 5000);
      else if (which === 'bare') r.bare_client = await bareOnce('points');
      else r.bare_client_lines = await bareOnce('lines');
    }
    sideBySide.push(r);
    console.log(
      `round ${round + 1}: sink ${r.sink} samples/s, bare influxdb-client ${r.bare_client} samples/s writing Points (${(r.sink / r.bare_client).toFixed(2)}x), ${r.bare_client_lines} writing prebuilt lines (${(r.sink / r.bare_client_lines).toFixed(2)}x)`,
    );
  }

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
    vs_bare_client: {
      rounds: sideBySide,
      sink_median: median(sideBySide.map((r) => r.sink)),
      bare_client_median: median(sideBySide.map((r) => r.bare_client)),
      ratio_median: median(sideBySide.map((r) => Math.round((r.sink / r.bare_client) * 100) / 100)),
      goal: '>= 0.8',
      baseline: 'the bare client writes the same records as Points (it encodes them; all batches sent at once), from memory; the sink reads them from its store',
      // The client's transport alone, given the finished lines (no encoding): a ceiling, not the goal's baseline.
      bare_client_lines_median: median(sideBySide.map((r) => r.bare_client_lines)),
      ratio_to_lines_median: median(sideBySide.map((r) => Math.round((r.sink / r.bare_client_lines) * 100) / 100)),
    },
    loadavg_1m: { before: Math.round(load0 * 10) / 10, after: Math.round((loadavg()[0] as number) * 10) / 10 },
    goal: `>= ${GOAL.toLocaleString('en')} samples/s`,
    met: best >= GOAL,
    node: process.version,
    at: new Date().toISOString(),
    previous: previousResult('sinks'),
  };
  writeFileSync(join(import.meta.dirname, 'results', 'sinks.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(result);
  store.close();
} finally {
  await vm.stop();
  rmSync(dir, { recursive: true, force: true });
}
