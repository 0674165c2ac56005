// Targets: every configured target with its value, bound, status and the last days' trend;
// active and recent alerts above them.
import { boundOf } from '../derive.js';
import { badge, card, h, replaceChildren, s, setValue, table, valueEl } from '../dom.js';
import { formatTime, formatWithUnit, kpiUnit, startOfDay } from '../format.js';
import { kpiRec, mapLimit, poller, sharedKpis } from './common.js';

const WINDOWS = ['15m', 'hour', 'day', 'week', 'month', 'year'];
const TREND_DAYS = 7;
const MAX_ALERTS = 20;
/** Windows that have targets, learned on the first visit (targets are config: they do not move). */
let knownTargetWindows = null;
/** Past days' KPIs do not change (short of late data): kept for the session, a week's worth at most. */
const pastDays = new Map();
function sharedPastKpis(api, at) {
  if (!pastDays.has(at)) {
    if (pastDays.size >= TREND_DAYS * 2) pastDays.delete(pastDays.keys().next().value);
    const p = api.kpis({ window: 'day', at });
    p.catch(() => pastDays.delete(at));
    pastDays.set(at, p);
  }
  return pastDays.get(at);
}

/** A small line of daily values; points outside the bound are drawn as misses. */
function sparkline(values, bound) {
  const w = 120;
  const hgt = 28;
  const nums = values.filter((v) => typeof v === 'number');
  const svg = s('svg', { viewBox: `0 0 ${w} ${hgt}`, class: 'spark', width: w, height: hgt });
  if (nums.length === 0) return svg;
  const lo = Math.min(...nums, bound?.value ?? Infinity);
  const hi = Math.max(...nums, bound?.value ?? -Infinity);
  const span = hi - lo || 1;
  const x = (i) => 4 + (i * (w - 8)) / Math.max(1, values.length - 1);
  const y = (v) => hgt - 4 - ((v - lo) / span) * (hgt - 8);
  if (bound?.value !== undefined) svg.append(s('line', { x1: 0, x2: w, y1: y(bound.value), y2: y(bound.value), class: 'bound' }));
  const pts = values.map((v, i) => (typeof v === 'number' ? `${x(i)},${y(v)}` : null)).filter(Boolean);
  svg.append(s('polyline', { points: pts.join(' '), class: 'trend' }));
  values.forEach((v, i) => {
    if (typeof v !== 'number') return;
    const miss = bound && ((bound.op === '≤' && v > bound.value) || (bound.op === '≥' && v < bound.value));
    svg.append(s('circle', { cx: x(i), cy: y(v), r: 2.2, class: miss ? 'miss' : 'hit' }));
  });
  return svg;
}

export function mount(root, ctx) {
  const { t } = ctx;
  const alertList = h('ul', { class: 'alerts' });
  const tbl = table(['targets.kpi', 'targets.window', 'targets.value', 'targets.bound', 'targets.coverage', 'common.status', 'targets.trend'], ctx, 'targets');
  root.append(h('div', { class: 'grid wide' }, card('alerts.title', ctx, alertList), card('nav.targets', ctx, tbl.el)));

  let rows = [];
  let windowsWithTargets = knownTargetWindows;
  let trend = new Map();

  const current = poller(async () => {
    const lists = await mapLimit(windowsWithTargets ?? WINDOWS, 2, (w) => sharedKpis(ctx.api, w).catch(() => null));
    // Targets change only with the config: after one complete look, ask only for windows that have some.
    if (!windowsWithTargets && lists.every(Boolean)) windowsWithTargets = knownTargetWindows = WINDOWS.filter((w, i) => lists[i].some((r) => r.target));
    rows = lists.flatMap((l) => l ?? []).filter((r) => r.target);
    renderTargets();
    ctx.rendered();
  }, 60_000);

  // One call per past day gives every KPI's daily value; a KPI without history shows a gap.
  const history = poller(async () => {
    // Whole days (local midnight) so the shared answers are reused across visits to this view.
    const today = startOfDay(ctx.now(), ctx.tz);
    const days = Array.from({ length: TREND_DAYS }, (_, i) => today - (TREND_DAYS - 1 - i) * 86_400_000 + 43_200_000);
    const lists = await mapLimit(days, 2, (at) => (at < today ? sharedPastKpis(ctx.api, at) : sharedKpis(ctx.api, 'day')).catch(() => []));
    const next = new Map();
    lists.forEach((list, i) => {
      for (const r of list) {
        if (r.device) continue;
        if (!next.has(r.kpi)) next.set(r.kpi, new Array(TREND_DAYS).fill(null));
        next.get(r.kpi)[i] = typeof r.value === 'number' ? r.value : null;
      }
    });
    trend = next;
    renderTargets();
  }, 600_000);

  function boundText(row) {
    const b = boundOf(row.target);
    if (!b) return '';
    const u = kpiUnit(row.kpi, row.unit);
    if (b.op === '∈') return `${formatWithUnit(b.min, u, ctx.lang, t)} – ${formatWithUnit(b.max, u, ctx.lang, t)}`;
    return `${b.op} ${formatWithUnit(b.value, u, ctx.lang, t)}`;
  }

  function renderTargets() {
    const sorted = [...rows].sort((a, b) => (a.status === 'missed' ? 0 : 1) - (b.status === 'missed' ? 0 : 1) || a.kpi.localeCompare(b.kpi));
    replaceChildren(
      tbl.body,
      sorted.length
        ? sorted.map((r) => {
            const v = valueEl(`target.${r.kpi}.${r.window}`);
            setValue(v, kpiRec(r), kpiUnit(r.kpi, r.unit), ctx);
            const cov = typeof r.coverage === 'number' ? `${Math.round(r.coverage * 100)} %` : '–';
            const bound = boundOf(r.target);
            return h(
              'tr',
              { class: `st-${r.status}`, 'data-kpi': r.kpi, 'data-window': r.window, 'data-status': r.status },
              h('th', { scope: 'row', text: r.scope && r.scope !== 'site' ? `${t(`kpi.${r.kpi}`)} · ${r.scope}` : t(`kpi.${r.kpi}`), title: r.kpi }),
              h('td', { text: t(`window.${r.window}`) }),
              h('td', { class: 'num' }, v),
              h('td', { class: 'num', text: boundText(r) }),
              h('td', { class: `num ${r.coverage < 0.9 ? 'q-uncertain' : ''}`, text: cov }),
              // Why a target is unknown, in words (coverage too low, nothing measured, too early).
              h('td', { title: r.reason ? t(`reason.${r.reason}`) : '' }, badge(r.status, t(`status.${r.status}`))),
              h('td', {}, sparkline(trend.get(r.kpi) ?? [], bound)),
            );
          })
        : [h('tr', {}, h('td', { colspan: 7, class: 'empty', text: t('targets.none') }))],
    );
  }

  function renderAlerts() {
    const list = ctx.state.recentAlerts(MAX_ALERTS);
    replaceChildren(
      alertList,
      list.length
        ? list.map((a) =>
            h(
              'li',
              { class: `alert st-${a.status ?? 'unknown'} ${a.active ? 'active' : 'past'}`, title: a.message ?? '', 'data-kpi': a.kpi ?? '' },
              h('span', { class: 'time', text: formatTime(a.ts, ctx.lang, ctx.tz, true) }),
              ' ',
              badge(a.status ?? 'unknown', t(`status.${a.status ?? 'unknown'}`)),
              ' ',
              h('strong', { text: a.kpi ? t(`kpi.${a.kpi}`) : String(a.message ?? '') }),
              a.window ? ` (${t(`window.${a.window}`)})` : '',
              typeof a.value === 'number' ? h('span', { class: 'num', text: ` ${formatWithUnit(a.value, kpiUnit(a.kpi, a.unit), ctx.lang, t)}` }) : null,
              a.target?.bound ? h('span', { class: 'muted', text: ` · ${t('targets.bound')} ${a.target.bound}` }) : null,
              a.active ? null : h('span', { class: 'muted', text: ` · ${t('alerts.cleared')}` }),
            ),
          )
        : [h('li', { class: 'empty ok', text: t('alerts.none') })],
    );
  }

  function update(batch) {
    if (batch.alerts.length || !alertList.firstChild) renderAlerts();
  }

  return {
    update,
    destroy() {
      current.stop();
      history.stop();
    },
  };
}
