import type Database from 'better-sqlite3';
import type { GatewayEvent, Quality, SampleValue } from '../model/types.js';
import { decodeQuality, decodeValue } from './codec.js';
import type { StoreCore } from './core.js';

/**
 * Read queries the API, the dashboard, runtime/activity and reports need, over the store's tables
 * (Store.reads). The functions below the class are the same reads by store, for callers that
 * hold a Store.
 */

export interface LatestRow {
  device: string;
  class: string;
  metric: string;
  ts: number;
  value: SampleValue | null;
  quality: Quality;
  reason?: string;
  receivedAt: number;
}

export type Point = [ts: number, value: SampleValue | null, quality: Quality];

export interface RollupPoint {
  ts: number;
  count: number;
  avg: number;
  min: number;
  max: number;
  last: number;
}

export const ROLLUP_STEPS = { '1m': 60_000, '1h': 3_600_000 } as const;
export type RollupStep = keyof typeof ROLLUP_STEPS;

export interface EventQuery {
  type?: string;
  device?: string;
  class?: string;
  from?: number;
  to?: number;
  limit?: number;
}

export class StoreReads {
  /** Built by the store, which holds the connection. */
  constructor(
    private readonly db: Database.Database,
    private readonly store: StoreCore,
  ) {}

  latest(filter: { device?: string; class?: string } = {}): LatestRow[] {
    const where: string[] = [];
    const args: string[] = [];
    if (filter.device) {
      where.push('s.device = ?');
      args.push(filter.device);
    }
    if (filter.class) {
      where.push('s.class = ?');
      args.push(filter.class);
    }
    const rows = this.db
      .prepare(
        `SELECT s.device, s.class, s.metric, l.ts, l.value, l.quality, l.reason, l.received_at
         FROM latest l JOIN series s ON s.id = l.series_id
         ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.device, s.metric`,
      )
      .all(...args) as {
      device: string;
      class: string;
      metric: string;
      ts: number;
      value: unknown;
      quality: number;
      reason: string | null;
      received_at: number;
    }[];
    return rows.map((r) => {
      const row: LatestRow = {
        device: r.device,
        class: r.class,
        metric: r.metric,
        ts: r.ts,
        value: decodeValue(r.class, r.metric, r.value),
        quality: decodeQuality(r.quality),
        receivedAt: r.received_at,
      };
      if (r.reason !== null) row.reason = r.reason;
      return row;
    });
  }

  rawSeries(device: string, metric: string, from: number, to: number, limit = 100_000): Point[] {
    const info = this.store.series(device, metric);
    if (!info) return [];
    const rows = this.db
      .prepare('SELECT ts, value, quality FROM samples WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts LIMIT ?')
      .all(info.id, from, to, limit) as { ts: number; value: unknown; quality: number }[];
    return rows.map((r) => [r.ts, decodeValue(info.cls, info.metric, r.value), decodeQuality(r.quality)]);
  }

  rollupSeries(device: string, metric: string, from: number, to: number, step: RollupStep): RollupPoint[] {
    const info = this.store.series(device, metric);
    if (!info) return [];
    const table = step === '1m' ? 'rollup_1m' : 'rollup_1h';
    const rows = this.db
      .prepare(
        `SELECT bucket, count, sum, min, max, last FROM ${table}
         WHERE series_id = ? AND bucket >= ? AND bucket < ? ORDER BY bucket`,
      )
      .all(info.id, from - (from % ROLLUP_STEPS[step]), to) as {
      bucket: number;
      count: number;
      sum: number;
      min: number;
      max: number;
      last: number;
    }[];
    return rows.map((r) => ({ ts: r.bucket, count: r.count, avg: r.sum / r.count, min: r.min, max: r.max, last: r.last }));
  }

  queryEvents(q: EventQuery): (GatewayEvent & { seq: number })[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const when = (sql: string, value: string | number | undefined) => {
      if (value === undefined || value === '') return;
      where.push(sql);
      args.push(value);
    };
    when('type = ?', q.type);
    when('device = ?', q.device);
    when('class = ?', q.class);
    when('ts >= ?', q.from);
    when('ts < ?', q.to);
    const rows = this.db
      .prepare(
        `SELECT seq, ts, device, class, type, attributes FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY ts DESC, seq DESC LIMIT ?`,
      )
      .all(...args, q.limit ?? 1000) as { seq: number; ts: number; device: string; class: string; type: string; attributes: string }[];
    return rows.map((r) => ({
      seq: r.seq,
      site: this.store.site,
      ts: r.ts,
      device: r.device,
      class: r.class,
      type: r.type,
      attributes: JSON.parse(r.attributes) as GatewayEvent['attributes'],
    }));
  }

  /** Newest reception time and worst current quality per device. */
  deviceActivity(): Map<string, { lastSeen: number; quality: Quality }> {
    const rows = this.db
      .prepare(
        `SELECT s.device, max(l.received_at) AS last_seen, max(l.quality) AS worst
         FROM latest l JOIN series s ON s.id = l.series_id GROUP BY s.device`,
      )
      .all() as { device: string; last_seen: number; worst: number }[];
    return new Map(rows.map((r) => [r.device, { lastSeen: r.last_seen, quality: decodeQuality(r.worst) }]));
  }

  /** Each device's newest event time (the index on events begins with the device). */
  lastEventPerDevice(): Map<string, number> {
    const rows = this.db.prepare('SELECT device, max(ts) AS ts FROM events GROUP BY device').all() as { device: string; ts: number }[];
    return new Map(rows.map((r) => [r.device, r.ts]));
  }
}

export const latest = (store: { reads: StoreReads }, filter: { device?: string; class?: string } = {}): LatestRow[] => store.reads.latest(filter);
export const rawSeries = (store: { reads: StoreReads }, device: string, metric: string, from: number, to: number, limit?: number): Point[] =>
  store.reads.rawSeries(device, metric, from, to, limit);
export const rollupSeries = (store: { reads: StoreReads }, device: string, metric: string, from: number, to: number, step: RollupStep): RollupPoint[] =>
  store.reads.rollupSeries(device, metric, from, to, step);
export const queryEvents = (store: { reads: StoreReads }, q: EventQuery): (GatewayEvent & { seq: number })[] => store.reads.queryEvents(q);
export const deviceActivity = (store: { reads: StoreReads }): Map<string, { lastSeen: number; quality: Quality }> => store.reads.deviceActivity();
