import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseQuery, time } from './params.js';
import type { KpiEngine } from '../kpi/engine.js';
import { KPI_WINDOWS } from '../kpi/names.js';

/** GET /api/kpis?window=&at= and GET /api/alerts (spec/interfaces.md). */

const kpisQuery = z.strictObject({
  window: z.enum(KPI_WINDOWS).default('day'),
  at: time.optional(),
  access_token: z.string().optional(),
});

const alertsQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
  access_token: z.string().optional(),
});

/** The routes over whichever engine is current (a reload may replace it). */
export function kpiApiPlugin(current: () => KpiEngine): (app: FastifyInstance) => void {
  return (app) => {
    app.get('/api/kpis', async (req) => {
      const q = parseQuery(kpisQuery, req.query);
      return current().kpis(q.window, q.at);
    });
    app.get('/api/alerts', async (req) => {
      const q = parseQuery(alertsQuery, req.query);
      const alerts = current().alerts(q.limit ?? 200);
      return { active: alerts.filter((a) => a.active).length, alerts };
    });
  };
}
