import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gunzipSync } from 'node:zlib';
import pino, { type Logger } from 'pino';
import { Registry } from 'prom-client';
import { Writable } from 'node:stream';
import { parseConfig } from '../../../gateway/config/load.js';
import type { GatewayConfig } from '../../../gateway/config/schema.js';
import type { GatewayEvent, Sample } from '../../../gateway/model/types.js';
import { systemClock } from '../../../gateway/model/clock.js';
import { createSinks, type Sinks } from '../../../gateway/sinks/index.js';
import type { Store } from '../../../gateway/store/store.js';
import type { ExportedSeries, Influxdb1 } from '../../helpers/servers.js';
import { inspectStore } from '../../helpers/store-file.js';

export const DAY = 86_400_000;

/** Midnight UTC two days ago: inside VictoriaMetrics' default retention, wholly in the past. */
export function dayStart(now = Date.now()): number {
  return Math.floor(now / DAY) * DAY - 2 * DAY;
}

export interface DayOptions {
  site: string;
  start: number;
  /** PV inverters and batteries each (device ids pv-1…, bat-1…). */
  devices: number;
  stepMs: number;
  /** Only this fraction of the day (from its start); 1 = the whole day. */
  from?: number;
  to?: number;
}

/**
 * A deterministic simulated day written through store.write: PV inverters (power, energy
 * counter, enum state), batteries (soc, power, a few uncertain samples), water meters (bool
 * alarm, flow) with static tags, and garage events with attributes.
 */
export function writeDay(store: Store, o: DayOptions): { samples: number; events: number } {
  const from = o.start + Math.round((o.from ?? 0) * DAY);
  const to = o.start + Math.round((o.to ?? 1) * DAY);
  for (let i = 1; i <= o.devices; i++) {
    store.upsertDevice({ id: `wm-${i}`, class: 'water_meter', connection: 'c', profile: 'p', tags: { water_type: i % 2 ? 'potable' : 'reclaimed', building: `B ${i}` }, discovered: false });
  }
  let samples = 0;
  let events = 0;
  const batch: Sample[] = [];
  const evs: GatewayEvent[] = [];
  const flush = () => {
    store.write(batch, evs);
    samples += batch.length;
    events += evs.length;
    batch.length = 0;
    evs.length = 0;
  };
  const s = (device: string, cls: string, metric: string, ts: number, value: Sample['value'], quality: Sample['quality'] = 'good', reason?: string) => {
    const x: Sample = { site: o.site, device, class: cls, metric, ts, value, quality };
    if (reason) x.reason = reason;
    batch.push(x);
  };
  for (let ts = from; ts < to; ts += o.stepMs) {
    const hour = ((ts - o.start) / 3_600_000) % 24;
    const sun = Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI));
    for (let i = 1; i <= o.devices; i++) {
      const k = (ts - o.start) / o.stepMs;
      const ac = Math.round(sun * 5000 * (1 + i / 10) * 10) / 10;
      s(`pv-${i}`, 'pv_inverter', 'ac_power', ts, ac);
      s(`pv-${i}`, 'pv_inverter', 'energy_total', ts, Math.round(1_000_000 * i + k * 7.5));
      s(`pv-${i}`, 'pv_inverter', 'state', ts, ac > 0 ? 'mppt' : 'sleeping');
      const soc = 20 + ((k + i * 13) % 600) / 10;
      s(`bat-${i}`, 'battery', 'soc', ts, soc, k % 97 === 0 ? 'uncertain' : 'good', k % 97 === 0 ? 'out_of_range' : undefined);
      s(`bat-${i}`, 'battery', 'power', ts, ((k * 37 + i) % 2001) - 1000);
      s(`wm-${i}`, 'water_meter', 'flow', ts, ((k + i) % 50) / 100);
      s(`wm-${i}`, 'water_meter', 'leak', ts, (k + i) % 11 === 0);
    }
    if (((ts - o.start) / o.stepMs) % 7 === 0) {
      evs.push({ site: o.site, device: 'gate-1', class: 'parking_garage', type: 'vehicle_entry', ts, attributes: { vehicle: `v${ts % 9973}`, gate: 'north gate', resident: ts % 2 === 0 } });
    }
    if (batch.length >= 5000) flush();
  }
  flush();
  return { samples, events };
}

export interface SeriesStat {
  count: number;
  sum: number;
}

/** Per series `${class}_${metric}|${device}` (the VictoriaMetrics name): count and sum of numbers/booleans. */
export function storeSeries(store: Store): Map<string, SeriesStat> {
  const rows = inspectStore(store, (db) => db
    .prepare(
      `SELECT s.class AS cls, s.metric, s.device, count(*) AS n,
              total(CASE WHEN typeof(x.value) IN ('integer', 'real') THEN x.value ELSE 0 END) AS sum
       FROM samples x JOIN series s ON s.id = x.series_id GROUP BY s.id`,
    )
    .all()) as { cls: string; metric: string; device: string; n: number; sum: number }[];
  const out = new Map<string, SeriesStat>();
  for (const r of rows) out.set(`${r.cls}_${r.metric}|${r.device}`, { count: r.n, sum: r.sum });
  const ev = inspectStore(store, (db) => db.prepare('SELECT class AS cls, type, device, count(*) AS n FROM events GROUP BY class, type, device').all()) as {
    cls: string;
    type: string;
    device: string;
    n: number;
  }[];
  for (const r of ev) out.set(`${r.cls}_${r.type}|${r.device}`, { count: r.n, sum: r.n });
  return out;
}

/** The same view of what VictoriaMetrics holds for one site, leaving out the quality fields. */
export function vmSeries(exported: ExportedSeries[]): Map<string, SeriesStat> {
  const out = new Map<string, SeriesStat>();
  for (const e of exported) {
    const name = e.metric['__name__'] ?? '';
    if (/_quality(_reason|_metric)?$/.test(name) || /parking_garage_(vehicle|gate|resident)$/.test(name)) continue;
    const key = `${name}|${e.metric['device']}`;
    const prev = out.get(key) ?? { count: 0, sum: 0 };
    out.set(key, { count: prev.count + e.values.length, sum: prev.sum + e.values.reduce((a, b) => a + b, 0) });
  }
  return out;
}

/** Round sums so float addition order (SQLite vs the server) does not matter. */
export function rounded(m: Map<string, SeriesStat>): Record<string, SeriesStat> {
  return Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, { count: v.count, sum: Math.round(v.sum * 100) / 100 }]));
}

/** Counts and sums per series from InfluxDB 1.x for one site, keyed like storeSeries. */
export async function influx1Series(ix: Influxdb1, db: string, site: string, expected: Map<string, SeriesStat>): Promise<Map<string, SeriesStat>> {
  const out = new Map<string, SeriesStat>();
  const wanted = new Set([...expected.keys()].map((k) => k.split('|')[0] as string));
  const numeric = new Set(['pv_inverter_ac_power', 'pv_inverter_energy_total', 'battery_soc', 'battery_power', 'water_meter_flow', 'parking_garage_vehicle_entry']);
  const statements: { name: string; q: string }[] = [];
  for (const name of wanted) {
    const [cls, field] = splitName(name);
    const agg = numeric.has(name) ? `count("${field}"), sum("${field}")` : `count("${field}")`;
    statements.push({ name, q: `SELECT ${agg} FROM "${cls}" WHERE site = '${site}' GROUP BY device` });
  }
  for (const { name, q } of statements) {
    for (const s of await ix.query(db, q)) {
      const row = s.values[0] as unknown[];
      const count = Number(row[1]);
      let sum = row.length > 2 ? Number(row[2]) : 0;
      // Booleans have no sum in InfluxQL: count the true ones.
      if (name === 'water_meter_leak') {
        const t = await ix.query(db, `SELECT count("leak") FROM "water_meter" WHERE site = '${site}' AND device = '${s.tags?.['device']}' AND leak = true`);
        sum = Number((t[0]?.values[0] as unknown[] | undefined)?.[1] ?? 0);
      }
      out.set(`${name}|${s.tags?.['device']}`, { count, sum });
    }
  }
  return out;
}

const CLASSES = ['pv_inverter', 'battery', 'water_meter', 'parking_garage'];
function splitName(name: string): [string, string] {
  const cls = CLASSES.find((c) => name.startsWith(`${c}_`)) ?? '';
  return [cls, name.slice(cls.length + 1)];
}

/** A full config around the given sinks (validated like a user's file). */
export function configWith(site: string, sinks: unknown[], extra: Record<string, unknown> = {}): Readonly<GatewayConfig> {
  return parseConfig(JSON.stringify({ version: 1, site: { id: site }, sinks, ...extra }), 'test-config', {});
}

/** A logger whose lines the test can read. */
export function memoryLog(): { log: Logger; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const dest = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString());
      cb();
    },
  });
  const log = pino({ level: 'info' }, dest);
  return { log, lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

export function startSinks(config: Readonly<GatewayConfig>, store: Store, log: Logger, registry = new Registry()): { sinks: Sinks; registry: Registry } {
  const sinks = createSinks(config, store, { clock: systemClock, log, registry });
  return { sinks, registry };
}

/** Everything in the store acknowledged by a sink. */
export function drained(store: Store, consumer: string): boolean {
  const c = store.getCursor(consumer);
  const m = store.maxSeq();
  return c !== undefined && c.samples >= m.samples && c.events >= m.events;
}

/** Current value of a labelled gauge on a registry. */
export async function gaugeValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = registry.getSingleMetric(name);
  if (!metric) return NaN;
  const { values } = await metric.get();
  const hit = values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return hit?.value ?? NaN;
}

/** A request to a stand-in write API: its path, headers, the body's size on the wire and its lines (gunzipped if it was gzip). */
export interface WriteRequest {
  path: string;
  encoding: string;
  auth: string;
  bytes: number;
  lines: string[];
}

/**
 * A plain HTTP server on loopback standing in for an InfluxDB write API: each request's body is
 * read whole and handed to `answer` with the response to write.
 */
export async function writeApiServer(answer: (r: WriteRequest, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const encoding = req.headers['content-encoding'] ?? 'identity';
      const text = (encoding === 'gzip' ? gunzipSync(raw) : raw).toString();
      answer({ path: req.url ?? '', encoding, auth: req.headers.authorization ?? '', bytes: raw.length, lines: text.split('\n') }, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  return {
    url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
