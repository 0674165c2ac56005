// Energy: live power flow, today's PV / load / grid / state-of-charge curves, heat pumps.
import { COLORS, timeChart } from '../chart.js';
import { DayCurves } from '../day-curves.js';
import { energyBalance, mainMeters } from '../derive.js';
import { card, h, stat, setValue } from '../dom.js';
import { formatNumber, startOfDay } from '../format.js';
import { kpiStat, mapLimit, poller, sharedKpis, throttle, warnUnlessAborted } from './common.js';
import { energyDevices } from './energy-devices.js';
import { flowDiagram } from './energy-flow.js';

const BUCKET_MS = 5 * 60_000;
const MAX_SERIES_REQUESTS = 40;
const CURVES = { pv: 'sum', grid: 'sum', battery: 'sum', soc: 'mean' };

/** Which curve a sample feeds, if any. */
function curveOf(rec, mains) {
  if (rec.class === 'pv_inverter' && rec.metric === 'ac_power') return 'pv';
  if (rec.class === 'battery' && rec.metric === 'power') return 'battery';
  if (rec.class === 'battery' && rec.metric === 'soc') return 'soc';
  if (rec.class === 'grid_meter' && rec.metric === 'power' && mains.has(rec.device)) return 'grid';
  return undefined;
}

export function mount(root, ctx) {
  const { state } = ctx;
  const devices = () => [...state.devices.values()];
  let mains = new Set(mainMeters(devices()).map((d) => d.id));
  const flow = flowDiagram(ctx);
  const parts = energyDevices(ctx);

  const chartEl = h('div', { class: 'chart', 'data-chart': 'energy-today' });
  const hp = {
    electric: stat('energy.hpElectric', 'energy.hpElectric', ctx),
    thermal: stat('energy.hpThermal', 'energy.hpThermal', ctx),
    cop: stat('energy.cop', 'energy.cop', ctx),
  };
  const spfDay = kpiStat(ctx, 'heat_pump_spf', 'day', 'energy.spfDay');
  const spfMonth = kpiStat(ctx, 'heat_pump_spf', 'month', 'energy.spfMonth');
  const totals = ['pv_generation', 'community_load', 'grid_import', 'grid_export', 'self_sufficiency', 'self_consumption', 'carbon_avoided'].map((k) =>
    kpiStat(ctx, k, 'day'),
  );

  root.append(
    h(
      'div',
      { class: 'grid energy' },
      card('energy.flow', ctx, flow.el),
      card('energy.curves', ctx, chartEl),
      card('energy.heatPumps', ctx, h('div', { class: 'stats' }, hp.electric.el, hp.thermal.el, hp.cop.el, spfDay.el, spfMonth.el)),
      card('energy.todayTotals', ctx, h('div', { class: 'stats' }, totals.map((x) => x.el))),
      card('energy.devices', ctx, parts.el),
    ),
  );

  const t = ctx.t;
  const kw = (_u, vals) => vals.map((v) => (v === null ? '' : formatNumber(v / 1000, ctx.lang)));
  const chart = timeChart(
    chartEl,
    {
      series: [
        { label: t('energy.pv'), stroke: COLORS.pv, fill: 'rgba(224,160,0,.12)', value: (u, v) => (v === null ? '–' : `${formatNumber(v / 1000, ctx.lang)} kW`) },
        { label: t('energy.load'), stroke: COLORS.load, value: (u, v) => (v === null ? '–' : `${formatNumber(v / 1000, ctx.lang)} kW`) },
        { label: t('energy.grid'), stroke: COLORS.grid, value: (u, v) => (v === null ? '–' : `${formatNumber(v / 1000, ctx.lang)} kW`) },
        { label: t('energy.soc'), stroke: COLORS.soc, scale: '%', value: (u, v) => (v === null ? '–' : `${formatNumber(v, ctx.lang, 0)} %`) },
      ],
      scales: { '%': { range: [0, 100] } },
      axes: [
        { scale: 'y', label: 'kW', values: kw },
        { scale: '%', label: '%', side: 1, values: (u, vals) => vals.map((v) => `${v}`) },
      ],
    },
    ctx,
  );

  let curves = new DayCurves(startOfDay(ctx.now(), ctx.tz), BUCKET_MS, CURVES);
  const redraw = throttle(() => {
    const load = curves.derive((p, g, b) => p + g - b, 'pv', 'grid', 'battery');
    chart.setData([curves.x, curves.y.pv, load, curves.y.grid, curves.y.soc]);
  }, 2000);

  // Today's history, then live samples keep the same fixed arrays current.
  const ctrl = new window.AbortController();
  async function loadHistory() {
    const from = curves.dayStart;
    const to = ctx.now();
    const wanted = devices().flatMap((d) => {
      if (d.class === 'pv_inverter') return [[d, 'ac_power', 'pv']];
      if (d.class === 'battery') return [[d, 'power', 'battery'], [d, 'soc', 'soc']];
      if (d.class === 'grid_meter' && mains.has(d.id)) return [[d, 'power', 'grid']];
      return [];
    });
    // Only series the gateway has: asking for one it lacks is a 404 in the console.
    const known = wanted.filter(([d, metric]) => state.latestOf(d.id, metric));
    await mapLimit(known.slice(0, MAX_SERIES_REQUESTS), 4, async ([d, metric, name]) => {
      const s = await ctx.api.series({ device: d.id, metric, from, to, step: '1m' }, ctrl.signal);
      for (const [ts, v, q] of s.points) if (q !== 'bad') curves.put(name, d.id, ts, v);
    });
    redraw();
  }
  loadHistory().catch(warnUnlessAborted('energy history'));

  const kpis = poller(async () => {
    const [day, month] = await Promise.all([sharedKpis(ctx.api, 'day'), sharedKpis(ctx.api, 'month')]);
    spfDay.set(day);
    spfMonth.set(month);
    for (const x of totals) x.set(day);
  }, 60_000);

  function update(batch) {
    mains = new Set(mainMeters(devices()).map((d) => d.id));
    const b = energyBalance((id, m) => state.latestOf(id, m), devices());
    flow.update(b);
    parts.update();
    setValue(hp.electric.value, b.hpElectric, 'W', ctx);
    setValue(hp.thermal.value, b.hpThermal, 'W', ctx);
    setValue(hp.cop.value, b.cop, 'factor', ctx);
    for (const r of batch.samples) {
      const name = curveOf(r, mains);
      if (!name || r.quality === 'bad') continue;
      if (r.ts >= curves.dayStart + 86_400_000) curves.reset(startOfDay(r.ts, ctx.tz));
      curves.put(name, r.device, r.ts, r.value);
    }
    if (batch.samples.length) redraw();
    ctx.rendered();
  }

  return {
    update,
    destroy() {
      ctrl.abort();
      kpis.stop();
      redraw.cancel();
      chart.destroy();
    },
  };
}
