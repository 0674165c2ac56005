// Bench: every site KPI over a month for a community with 500 series of 1-minute data
// (22 million samples, hourly rollups folded by the store's own rollup consumer).
// Goal: the month in under 1 s. Writes test/bench/results/kpi.json.
//
// Building the store takes a few minutes on two shared cores, so it is kept in the temp
// directory and reused while its parameters match (BENCH_KPI_REBUILD=1 forces a rebuild).
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configSchema } from '../../gateway/config/schema.js';
import { KpiPass } from '../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../gateway/kpi/engine.js';
import { KpiStateDb } from '../../gateway/kpi/state-db.js';
import { windowAt } from '../../gateway/kpi/windows.js';
import type { Sample } from '../../gateway/model/types.js';
import { updateRollups } from '../../gateway/store/maintenance.js';
import { Store } from '../../gateway/store/store.js';
import Database from 'better-sqlite3';

const SERIES = Number(process.env['BENCH_KPI_SERIES'] ?? 500);
const TZ = 'Asia/Shanghai';
const MONTH_START = Date.parse('2024-03-01T00:00:00+08:00');
const MONTH_END = Date.parse('2024-04-01T00:00:00+08:00');
const FROM = MONTH_START - 3_600_000;
const TO = MONTH_END + 3_600_000;
const STEP = 60_000;
const SITE = 'bench';

interface SeriesDef {
  device: string;
  cls: string;
  metric: string;
  tags: Record<string, string>;
  kind: 'counter' | 'gauge';
  /** Watts (or m³/h) at time t; counters integrate it. */
  rate: (t: number, i: number) => number;
}

const hour = (t: number) => (((t + 8 * 3_600_000) % 86_400_000) / 3_600_000);
const sun = (t: number) => Math.max(0, Math.sin((Math.PI * (hour(t) - 6)) / 12));

/** ~500 series: PV (energy + power), grid meters, batteries, heat pumps, water meters, chargers. */
function community(n: number): SeriesDef[] {
  const out: SeriesDef[] = [];
  const add = (device: string, cls: string, metric: string, kind: 'counter' | 'gauge', rate: SeriesDef['rate'], tags: Record<string, string> = {}) =>
    out.push({ device, cls, metric, kind, rate, tags });
  add('grid-main', 'grid_meter', 'import_total', 'counter', (t) => 300_000 + 100_000 * Math.cos((Math.PI * hour(t)) / 12) - 150_000 * sun(t), { role: 'master' });
  add('grid-main', 'grid_meter', 'export_total', 'counter', (t) => 20_000 * sun(t), { role: 'master' });
  add('grid-main', 'grid_meter', 'power', 'gauge', (t) => 280_000 - 170_000 * sun(t), { role: 'master' });
  for (let i = 0; out.length < n; i++) {
    const k = i % 10;
    if (k < 3) {
      add(`pv-${i}`, 'pv_inverter', 'energy_total', 'counter', (t) => 20_000 * sun(t));
      add(`pv-${i}`, 'pv_inverter', 'ac_power', 'gauge', (t) => 20_000 * sun(t));
    } else if (k === 3) add(`sub-${i}`, 'grid_meter', 'import_total', 'counter', (t) => 5_000 + 2_000 * Math.cos((Math.PI * hour(t)) / 12), { role: 'sub' });
    else if (k === 4) {
      add(`bess-${i}`, 'battery', 'charged_total', 'counter', (t) => (hour(t) >= 10 && hour(t) < 14 ? 50_000 : 0));
      add(`bess-${i}`, 'battery', 'discharged_total', 'counter', (t) => (hour(t) >= 18 && hour(t) < 22 ? 45_000 : 0));
      add(`bess-${i}`, 'battery', 'soc', 'gauge', (t) => 50 + 30 * Math.sin((Math.PI * hour(t)) / 12));
    } else if (k === 5) {
      add(`hp-${i}`, 'heat_pump', 'electric_total', 'counter', () => 8_000);
      add(`hp-${i}`, 'heat_pump', 'thermal_total', 'counter', () => 26_000);
    } else add(`wm-${i}`, 'water_meter', 'volume_total', 'counter', (t) => 0.5 + 0.3 * Math.sin((Math.PI * hour(t)) / 12), { water_type: k === 9 ? 'reclaimed' : 'potable' });
  }
  return out.slice(0, n);
}

function build(path: string, defs: SeriesDef[]): { samples: number; seconds: number } {
  const t0 = performance.now();
  const store = Store.open({ path, site: SITE });
  for (const d of defs) store.upsertDevice({ id: d.device, class: d.cls, connection: 'bench', profile: 'bench', tags: d.tags, discovered: false });
  let samples = 0;
  // One series at a time, in time order: the store's write path, in large transactions.
  for (const [i, d] of defs.entries()) {
    let acc = 1_000_000 + i * 1000;
    let batch: Sample[] = [];
    for (let t = FROM; t < TO; t += STEP) {
      if (d.kind === 'counter') acc += (d.rate(t, i) * STEP) / 3_600_000;
      batch.push({ site: SITE, device: d.device, class: d.cls, metric: d.metric, ts: t, value: d.kind === 'counter' ? Math.round(acc * 1000) / 1000 : d.rate(t, i), quality: 'good' });
      if (batch.length === 50_000) {
        store.write(batch);
        samples += batch.length;
        batch = [];
      }
    }
    store.write(batch);
    samples += batch.length;
  }
  store.write(defs.filter((d) => d.cls === 'battery' && d.metric === 'soc').map((d) => ({ site: SITE, device: d.device, class: 'battery', metric: 'capacity', ts: FROM, value: 200_000, quality: 'good' as const })));
  while (updateRollups(store, 5_000_000) > 0) {
    /* fold every sample into the rollups, a chunk at a time */
  }
  store.close();
  const db = new Database(path);
  db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('bench_kpi', ?)").run(JSON.stringify({ series: defs.length, from: FROM, to: TO }));
  db.close();
  return { samples, seconds: (performance.now() - t0) / 1000 };
}

const dir = join(tmpdir(), 'fcgw-bench-kpi');
const path = join(dir, `month-${SERIES}.db`);
const defs = community(SERIES);
let built: { samples: number; seconds: number } | undefined;
if (process.env['BENCH_KPI_REBUILD'] === '1' || !existsSync(path)) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  console.log(`building ${SERIES} series × ${(TO - FROM) / STEP} minutes in ${path} …`);
  built = build(path, defs);
  console.log(`built ${built.samples} samples in ${built.seconds.toFixed(0)} s`);
}

const store = Store.open({ path, site: SITE });
// What the engine does at start: its tables, and the partial index over flagged samples.
const t0 = performance.now();
new KpiStateDb(store);
const indexMs = performance.now() - t0;
const config = configSchema.parse({ version: 1, site: { id: SITE, residents: 3100 } });
const month = windowAt('month', MONTH_START + 86_400_000, TZ);
const now = MONTH_END + 86_400_000;
const runs: number[] = [];
let results: ReturnType<KpiPass['compute']> = [];
for (let i = 0; i < 5; i++) {
  const t1 = performance.now();
  const pass = new KpiPass(store.kpiReads(), now, calculatorOptions(config));
  results = pass.compute(month, { site: true });
  runs.push(performance.now() - t1);
}
const samples = store.counts().samples;
store.close();

// Ground truth of one KPI: what the generated PV counters accumulated inside the month.
let pvTruth = 0;
for (const [i, d] of defs.entries()) {
  if (d.metric !== 'energy_total') continue;
  for (let t = MONTH_START + STEP; t <= MONTH_END; t += STEP) pvTruth += (d.rate(t, i) * STEP) / 3_600_000;
}
const sorted = [...runs].sort((a, b) => a - b);
const cold = runs[0] as number;
const warm = sorted[Math.floor(sorted.length / 2)] as number;
const pick = (k: string) => results.find((r) => r.kpi === k);
const res = {
  bench: 'kpi',
  series: SERIES,
  samples,
  window: 'month (2024-03, Asia/Shanghai)',
  kpis: results.length,
  first_run_ms: Math.round(cold),
  median_ms: Math.round(warm),
  runs_ms: runs.map((x) => Math.round(x)),
  ...(built ? { build_s: Math.round(built.seconds) } : {}),
  kpi_tables_ms: Math.round(indexMs),
  check: {
    pv_generation_wh: Math.round(pick('pv_generation')?.value ?? 0),
    pv_generation_truth_wh: Math.round(pvTruth),
    pv_generation_error: Number((Math.abs((pick('pv_generation')?.value ?? 0) - pvTruth) / pvTruth).toExponential(2)),
    self_sufficiency: Number((pick('self_sufficiency')?.value ?? 0).toFixed(4)),
    coverage: Number((pick('pv_generation')?.coverage ?? 0).toFixed(4)),
  },
  goal: 'month KPIs for 500 series of 1-minute data in < 1 s',
  met: cold < 1000,
  node: process.version,
  at: new Date().toISOString(),
};
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'kpi.json'), `${JSON.stringify(res, null, 2)}\n`);
console.log(JSON.stringify(res, null, 2));
