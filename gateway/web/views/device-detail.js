// One device: its latest value per metric (with quality) and one metric's last 24 hours.
// The chart keeps at most MAX_POINTS, dropping the oldest as live samples arrive.
import { COLORS, timeChart } from '../chart.js';
import { h, metricEl, replaceChildren, setValue } from '../dom.js';
import { formatNumber, formatWithUnit } from '../format.js';
import { timeCell, warnUnlessAborted } from './common.js';
import { commandPanel } from './commands.js';

const MAX_POINTS = 2000;
const WINDOW_MS = 86_400_000;

export function deviceDetail(device, ctx) {
  const { t } = ctx;
  const ctrl = new window.AbortController();
  const recs = new Map();
  const body = h('tbody');
  const chartEl = h('div', { class: 'chart', 'data-chart': 'device' });
  const title = h('h3', { class: 'series-title' });
  const commands = commandPanel(device, ctx);
  const el = h(
    'div',
    { class: 'device-detail', 'data-device': device.id },
    h('h3', { class: 'id', text: `${device.id}` }, h('small', { text: ` ${t(`class.${device.class}`)} · ${device.connection ?? ''} · ${device.profile ?? ''}` })),
    commands.el,
    h('table', { class: 'tbl metrics' }, h('thead', {}, h('tr', {}, ['common.type', 'common.value', 'common.time'].map((k) => h('th', { text: t(k) })))), body),
    title,
    chartEl,
  );

  let metric = '';
  let unit = '';
  let xs = [];
  let ys = [];
  let chart = null;

  function renderMetrics() {
    const list = [...recs.values()].sort((a, b) => a.metric.localeCompare(b.metric));
    replaceChildren(
      body,
      list.map((r) => {
        const v = metricEl(device.id, r.metric);
        setValue(v, r, r.unit ?? ctx.state.unitOf(r.class, r.metric), ctx);
        return h('tr', { 'data-metric': r.metric, class: r.metric === metric ? 'selected' : '', tabindex: 0 }, h('td', { text: t(`metric.${r.metric}`), title: r.metric }), h('td', { class: 'num' }, v), timeCell(r.ts, ctx));
      }),
    );
  }

  async function showSeries(m) {
    metric = m;
    const rec = recs.get(m);
    unit = rec?.unit ?? ctx.state.unitOf(device.class, m) ?? '';
    title.textContent = `${t(`metric.${m}`)} · ${t('devices.series')}`;
    renderMetrics();
    chart?.destroy();
    chart = null;
    xs = [];
    ys = [];
    const to = ctx.now();
    const s = await ctx.api.series({ device: device.id, metric: m, from: to - WINDOW_MS, to }, ctrl.signal);
    unit = s.unit ?? unit;
    const pts = s.points.filter(([, v]) => typeof v === 'number' || typeof v === 'boolean').slice(-MAX_POINTS);
    xs = pts.map((p) => p[0]);
    ys = pts.map((p) => (p[2] === 'bad' ? null : Number(p[1])));
    if (metric !== m) return; // another metric was picked while this one loaded
    chart = timeChart(
      chartEl,
      {
        series: [{ label: t(`metric.${m}`), stroke: COLORS.line, value: (u, v) => (v === null ? '–' : formatWithUnit(v, unit, ctx.lang, t)) }],
        axes: [{ scale: 'y', label: unit, values: (u, vals) => vals.map((v) => formatNumber(v, ctx.lang)) }],
        height: 200,
      },
      ctx,
    );
    chart.setData([xs, ys]);
  }

  body.addEventListener('click', (e) => {
    const m = e.target.closest('tr')?.dataset.metric;
    if (m) showSeries(m).catch(() => {});
  });

  ctx.api
    .latest({ device: device.id }, ctrl.signal)
    .then((list) => {
      for (const r of list) recs.set(r.metric, r);
      renderMetrics();
      const first = list.find((r) => typeof r.value === 'number');
      if (first) return showSeries(first.metric);
      return undefined;
    })
    .catch(warnUnlessAborted('device'));

  function update(batch) {
    let touched = false;
    for (const r of batch.samples) {
      if (r.device !== device.id) continue;
      const old = recs.get(r.metric);
      if (old && old.ts > r.ts) continue;
      recs.set(r.metric, { ...r, unit: old?.unit ?? r.unit });
      touched = true;
      if (r.metric === metric && chart && (typeof r.value === 'number' || typeof r.value === 'boolean') && r.ts > (xs[xs.length - 1] ?? 0)) {
        xs.push(r.ts);
        ys.push(r.quality === 'bad' ? null : Number(r.value));
        while (xs.length > MAX_POINTS || (xs.length > 1 && xs[0] < r.ts - WINDOW_MS)) {
          xs.shift();
          ys.shift();
        }
        chart.setData([xs, ys]);
      }
    }
    // A catch-up after a reconnect arrives through the shared state, not as live samples.
    for (const [m, old] of recs) {
      const cur = ctx.state.latestOf(device.id, m);
      if (cur && (cur.ts > old.ts || cur.reason !== old.reason)) {
        recs.set(m, { ...cur, unit: old.unit ?? cur.unit });
        touched = true;
      }
    }
    if (touched) renderMetrics();
  }

  return {
    el,
    update,
    destroy() {
      ctrl.abort();
      commands.destroy();
      chart?.destroy();
    },
  };
}
