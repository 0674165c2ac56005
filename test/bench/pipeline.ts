// Bench: the pipeline (normalise → SQLite commit) against a bare better-sqlite3 insert of the
// same rows, side by side in one run (the ratio is what matters on a noisy machine): as the
// gateway runs it (WAL checkpoints on their own thread) and on one core (checkpoints in commits).
// Writes test/bench/results/pipeline.json.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../gateway/model/clock.js';
import type { Reading } from '../../gateway/model/types.js';
import { CounterState } from '../../gateway/pipeline/counters.js';
import { Ingestor } from '../../gateway/pipeline/ingest.js';
import { Dedupe } from '../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../gateway/pipeline/pseudonymise.js';
import { createLogger } from '../../gateway/runtime/log.js';
import { GatewayMetrics } from '../../gateway/runtime/metrics.js';
import { Store } from '../../gateway/store/store.js';

const TOTAL = Number(process.env['BENCH_SAMPLES'] ?? 500_000);
const SERIES = 500;
const BATCH = 5000;
const T0 = Date.UTC(2026, 0, 1);
const METRICS = ['power', 'import_total', 'export_total'] as const;

function readings(offset: number, n: number): Reading[] {
  const out: Reading[] = new Array(n);
  for (let k = 0; k < n; k++) {
    const i = offset + k;
    const series = i % SERIES;
    const step = Math.floor(i / SERIES);
    const metric = METRICS[series % 3] as string;
    out[k] = {
      device: `meter-${Math.floor(series / 3)}`,
      metric,
      value: metric === 'power' ? (step % 100) * 10.5 : step * 2.5,
      unit: metric === 'power' ? 'kW' : 'kWh',
      ts: T0 + step * 1000,
    };
  }
  return out;
}

/** The pipeline as the gateway runs it (WAL checkpoints on their own thread), or with SQLite's checkpoints inside commits (one core). */
async function pipeline(dir: string, checkpointThread: boolean): Promise<{ seconds: number; rate: number }> {
  const clock = new ManualClock(T0 + 30 * 86_400_000);
  const store = Store.open({ path: join(dir, checkpointThread ? 'pipeline.db' : 'inline.db'), site: 'bench', clock, checkpointThread });
  const ingestor = new Ingestor({
    store,
    metrics: new GatewayMetrics({ defaults: false }),
    log: createLogger({ level: 'silent' }),
    maxRows: BATCH,
    queueMax: 100_000,
    normalise: {
      site: 'bench',
      deviceClass: () => 'grid_meter',
      counters: new CounterState(),
      dedupe: new Dedupe(),
      pseudo: new Pseudonymiser(Buffer.alloc(32, 1)),
      now: () => clock.now(),
    },
  });
  const t = process.hrtime.bigint();
  for (let off = 0; off < TOTAL; off += BATCH) await ingestor.submit({ readings: readings(off, Math.min(BATCH, TOTAL - off)) });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (store.counts().samples !== TOTAL) throw new Error(`pipeline stored ${store.counts().samples} of ${TOTAL}`);
  store.close();
  return { seconds, rate: TOTAL / seconds };
}

function bare(dir: string): { seconds: number; rate: number } {
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, series_id INTEGER, ts INTEGER, value, quality INTEGER, reason TEXT); CREATE UNIQUE INDEX s_ts ON samples (series_id, ts);');
  const ins = db.prepare('INSERT INTO samples (series_id, ts, value, quality, reason) VALUES (?, ?, ?, 0, NULL)');
  const tx = db.transaction((rows: Reading[]) => {
    for (const [k, r] of rows.entries()) ins.run(k % SERIES, r.ts, r.value as number);
  });
  const t = process.hrtime.bigint();
  for (let off = 0; off < TOTAL; off += BATCH) tx(readings(off, Math.min(BATCH, TOTAL - off)));
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  db.close();
  return { seconds, rate: TOTAL / seconds };
}

// Rounds alternate bare and pipeline on fresh databases, so a burst of load from elsewhere on
// the machine hits both sides alike; the medians and their ratio are reported.
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
const bareRates: number[] = [];
const pipeRates: number[] = [];
const inlineRates: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'fcgw-bench-'));
  try {
    bareRates.push(bare(dir).rate);
    pipeRates.push((await pipeline(dir, true)).rate);
    inlineRates.push((await pipeline(dir, false)).rate);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const p = median(pipeRates);
const b = median(bareRates);
const one = median(inlineRates);
const rssMb = process.resourceUsage().maxRSS / 1024;
const result = {
  bench: 'pipeline',
  samples_per_round: TOTAL,
  rounds: ROUNDS,
  series: SERIES,
  batch: BATCH,
  pipeline_samples_per_s: Math.round(p),
  bare_sqlite_samples_per_s: Math.round(b),
  ratio_to_bare: Number((p / b).toFixed(2)),
  // The same pipeline with SQLite's own checkpoints inside commits: everything on one core.
  one_core_samples_per_s: Math.round(one),
  one_core_ratio_to_bare: Number((one / b).toFixed(2)),
  rounds_pipeline: pipeRates.map(Math.round),
  rounds_one_core: inlineRates.map(Math.round),
  rounds_bare: bareRates.map(Math.round),
  peak_rss_mb: Math.round(rssMb),
  goal: '>= 100,000 samples/s on one core, RSS < 200 MB',
  met: one >= 100_000 && rssMb < 200,
  node: process.version,
  at: new Date().toISOString(),
};
writeFileSync(join(import.meta.dirname, 'results/pipeline.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(JSON.stringify(result));
