import type { FastifyInstance } from 'fastify';
import { metricDef } from '../model/catalog.js';
import { latest, queryEvents, rawSeries, rollupSeries } from '../store/queries.js';
import { ApiError, eventsQuery, latestQuery, parseQuery, seriesQuery } from './params.js';
import type { ApiContext } from './context.js';

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

/** The data routes of spec/interfaces.md (registered in the context that needs a read token). */
export function registerDataRoutes(app: FastifyInstance, ctx: ApiContext): void {
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
}
