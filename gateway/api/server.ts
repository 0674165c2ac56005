import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { timingSafeEqual } from 'node:crypto';
import { metricDef } from '../model/catalog.js';
import type { Clock } from '../model/clock.js';
import type { GatewayMetrics } from '../runtime/metrics.js';
import { deviceActivity, latest, queryEvents, rawSeries, rollupSeries } from '../store/queries.js';
import type { Store } from '../store/store.js';
import { registerLive } from './live-route.js';
import type { LiveHub } from './live.js';
import { ApiError, eventsQuery, latestQuery, parseQuery, seriesQuery } from './params.js';

export interface DeviceView {
  id: string;
  name?: string;
  class: string;
  connection: string;
  profile: string;
  tags: Record<string, string>;
  status: 'online' | 'offline' | 'stale' | 'quarantined' | 'unknown';
  lastSeen: string | null;
  quality: string | null;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  site: string;
  site_name?: string;
  timezone?: string;
  uptime_s: number;
  drivers: unknown[];
  sinks: unknown[];
  store: Record<string, unknown>;
  broker?: Record<string, unknown>;
}

export interface ApiContext {
  store: Store;
  metrics: GatewayMetrics;
  clock: Clock;
  log: Logger;
  live: LiveHub;
  tokens: readonly string[];
  health(): HealthReport;
  devices(): DeviceView[];
}

/** A route module added by another part of the gateway (KPIs, the dashboard). */
export type ApiPlugin = (app: FastifyInstance) => void | Promise<void>;

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** Build the HTTP API without listening, so tests can `inject()` requests. */
export async function buildApi(ctx: ApiContext, plugins: ApiPlugin[] = []): Promise<FastifyInstance> {
  const app = Fastify({
    // Per-request lines (fastify logs them at info) would drown the gateway's own log: the API's
    // logger starts at warn. (The `disableRequestLogging` option is deprecated in fastify 5.)
    loggerInstance: ctx.log.child({ part: 'api' }, { level: ctx.log.isLevelEnabled('warn') ? 'warn' : ctx.log.level }) as unknown as FastifyBaseLogger,
  }) as unknown as FastifyInstance;

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) ctx.log.error({ err }, 'API request failed');
    return reply.code(status).send({ error: { code: err.code ?? 'INTERNAL', message: status >= 500 ? 'internal error' : err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  if (ctx.tokens.length) {
    const tokens = ctx.tokens.map((t) => Buffer.from(t));
    app.addHook('onRequest', async (req) => {
      if (!req.url.startsWith('/api/') && !req.url.startsWith('/metrics')) return;
      const header = req.headers.authorization;
      const q = (req.query as Record<string, string> | undefined)?.['access_token'];
      const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : (q ?? ''));
      if (!tokens.some((t) => t.length === given.length && timingSafeEqual(t, given)))
        throw new ApiError(401, 'UNAUTHORISED', 'a valid bearer token is required');
    });
  }

  app.get('/api/health', async () => ctx.health());

  app.get('/api/devices', async () => ctx.devices());

  app.get('/api/latest', async (req) => {
    const q = parseQuery(latestQuery, req.query);
    return latest(ctx.store, q).map((r) => ({
      device: r.device,
      class: r.class,
      metric: r.metric,
      ts: iso(r.ts),
      value: r.value,
      unit: metricDef(r.class, r.metric)?.unit ?? null,
      quality: r.quality,
      ...(r.reason ? { reason: r.reason } : {}),
    }));
  });

  app.get('/api/series', async (req) => {
    const q = parseQuery(seriesQuery, req.query);
    const to = q.to ?? ctx.clock.now();
    const from = q.from ?? to - 24 * 3_600_000;
    if (from >= to) throw new ApiError(400, 'BAD_PARAMETER', 'from must be before to');
    const info = ctx.store.series(q.device, q.metric);
    if (!info) throw new ApiError(404, 'NO_SERIES', `no series ${q.device}/${q.metric}`);
    const unit = metricDef(info.cls, q.metric)?.unit ?? null;
    if (!q.step || q.step === 'raw') {
      const points = rawSeries(ctx.store, q.device, q.metric, from, to, q.limit ?? 10_000);
      return { device: q.device, metric: q.metric, unit, from: iso(from), to: iso(to), points: points.map(([t, v, ql]) => [iso(t), v, ql]) };
    }
    const rows = rollupSeries(ctx.store, q.device, q.metric, from, to, q.step);
    return {
      device: q.device,
      metric: q.metric,
      unit,
      step: q.step,
      from: iso(from),
      to: iso(to),
      points: rows.map((r) => [iso(r.ts), r.avg, 'good']),
      rollups: rows.map((r) => ({ ts: iso(r.ts), count: r.count, avg: r.avg, min: r.min, max: r.max, last: r.last })),
    };
  });

  app.get('/api/events', async (req) => {
    const q = parseQuery(eventsQuery, req.query);
    return queryEvents(ctx.store, q).map((e) => ({ ts: iso(e.ts), device: e.device, class: e.class, type: e.type, attributes: e.attributes }));
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  registerLive(app, ctx);
  for (const p of plugins) await p(app);
  return app;
}

/** Device status from what the store saw and what the driver says. */
export function deviceStatus(
  lastSeen: number | undefined,
  driverState: string | undefined,
  stale: boolean,
): DeviceView['status'] {
  if (driverState === 'quarantined') return 'quarantined';
  if (driverState === 'offline') return 'offline';
  if (lastSeen === undefined) return driverState === 'online' ? 'online' : 'unknown';
  return stale ? 'stale' : 'online';
}

export { deviceActivity };
