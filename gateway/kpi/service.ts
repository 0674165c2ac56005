import { ratio, type KpiContext, type KpiValue } from './context.js';
import type { EventRow } from '../store/kpi-reads.js';
import { eventCoverage } from './transport.js';

/** Service scene: security signals from access control (spec/kpis.md). */

function doorEvents(ctx: KpiContext, types: string[]): EventRow[] {
  const rows = ctx.events(types, ctx.from, ctx.to);
  if ('site' in ctx.scope) return rows;
  const ids = new Set(ctx.devices.map((d) => d.id));
  return rows.filter((r) => ids.has(r.device));
}

function count(ctx: KpiContext, type: string): KpiValue {
  const rows = doorEvents(ctx, [type]);
  const cov = eventCoverage(ctx, 'access_door', rows);
  return { value: rows.length, coverage: cov.coverage, series: [...cov.series, `events/${type}`] };
}

export const service: Record<string, (ctx: KpiContext) => KpiValue> = {
  access_denied_rate: (ctx) => {
    const rows = doorEvents(ctx, ['access_granted', 'access_denied']);
    const denied = rows.filter((r) => r.type === 'access_denied').length;
    const cov = eventCoverage(ctx, 'access_door', rows);
    return {
      value: ratio(denied, rows.length),
      coverage: cov.coverage,
      series: [...cov.series, 'events/access_granted', 'events/access_denied'],
      detail: { denied, decisions: rows.length },
    };
  },
  door_forced_count: (ctx) => count(ctx, 'door_forced'),
  door_held_open_count: (ctx) => count(ctx, 'door_held_open'),
};
