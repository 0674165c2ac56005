// Water: today's consumption by water type, the reclaimed + rain share, leak alarms, meters.
import { waterByType, waterTypeOf } from '../derive.js';
import { badge, card, h, metricEl, replaceChildren, setValue, stat, table, valueEl } from '../dom.js';
import { formatNumber, startOfDay } from '../format.js';
import { kpiStat, mapLimit, noDataRow, poller, sharedKpis, viewOf, warnUnlessAborted } from './common.js';

const ALARMS = ['leak', 'burst', 'backflow', 'dry', 'tamper', 'low_battery'];
const TYPES = ['potable', 'reclaimed', 'rainwater', 'hot', 'unknown'];
const MAX_METERS = 40;
const MAX_BASELINE_REQUESTS = 60;

export function mount(root, ctx) {
  const { state, t } = ctx;
  const byType = table(['common.type', 'water.volume', 'water.shareOfTotal'], ctx, 'water-types');
  const altShare = stat('water.altShare', 'water.altShare', ctx);
  const altMonth = kpiStat(ctx, 'non_traditional_water_ratio', 'month', 'water.altShareMonth');
  const nightLeak = kpiStat(ctx, 'night_flow_leak', 'day', 'water.nightLeak');
  const alarms = table(['common.device', 'common.type', 'common.status'], ctx, 'water-alarms');
  const meters = table(['common.device', 'common.type', 'water.flow', 'water.volume'], ctx, 'meters');

  root.append(
    h(
      'div',
      { class: 'grid' },
      card('water.byType', ctx, h('div', { class: 'stats' }, altShare.el, altMonth.el), byType.el),
      card('water.alarms', ctx, h('div', { class: 'stats' }, nightLeak.el), alarms.el),
      card('water.meters', ctx, meters.el),
    ),
  );

  // Today's volume per meter = latest counter − the first reading since local midnight.
  const baseline = new Map();
  let dayStart = startOfDay(ctx.now(), ctx.tz);
  const ctrl = new window.AbortController();
  async function loadBaselines() {
    const list = state.devicesOf('water_meter').slice(0, MAX_BASELINE_REQUESTS);
    await mapLimit(list, 4, async (d) => {
      if (!state.latestOf(d.id, 'volume_total')) return; // no series yet: asking would be a 404
      const s = await ctx.api.series({ device: d.id, metric: 'volume_total', from: dayStart, to: ctx.now() + 1, limit: 1 }, ctrl.signal);
      const first = s.points.find(([, v, q]) => typeof v === 'number' && q !== 'bad');
      if (first) baseline.set(d.id, first[1]);
    });
    render();
  }
  loadBaselines().catch(warnUnlessAborted('water baselines'));

  const kpis = poller(async () => {
    const [day, month] = await Promise.all([sharedKpis(ctx.api, 'day'), sharedKpis(ctx.api, 'month')]);
    nightLeak.set(day);
    altMonth.set(month);
  }, 60_000);

  const noData = (span) => noDataRow(t, span);

  function volumeToday(d) {
    const cur = state.latestOf(d.id, 'volume_total');
    const base = baseline.get(d.id);
    if (!cur || typeof cur.value !== 'number' || base === undefined) return { value: null, quality: 'bad', reason: 'no_data' };
    const v = cur.value - base;
    // A counter that went backwards was reset or replaced: the difference is not a volume.
    if (v < 0) return { value: null, quality: 'bad', reason: 'counter_reset' };
    return { value: v, quality: cur.quality, reason: cur.reason, ts: cur.ts };
  }

  function render() {
    const list = state.devicesOf('water_meter');
    const vols = list.map((d) => ({ d, vol: volumeToday(d) }));
    const sums = waterByType(vols.map(({ d, vol }) => ({ type: waterTypeOf(d), role: d.tags?.role, volume: vol.value })));
    setValue(altShare.value, sums.altShare === null ? null : { value: sums.altShare, quality: 'good' }, 'ratio', ctx);
    const typeRows = TYPES.filter((ty) => sums.byType.has(ty)).map((ty) => {
      const v = valueEl(`water.${ty}`);
      setValue(v, { value: sums.byType.get(ty), quality: 'good' }, 'm³', ctx);
      const share = sums.total > 0 ? sums.byType.get(ty) / sums.total : 0;
      return h('tr', { 'data-type': ty }, h('th', { scope: 'row', text: t(`water.type.${ty}`) }), h('td', { class: 'num' }, v), h('td', { class: 'num' }, `${formatNumber(share * 100, ctx.lang, 1)} %`, h('span', { class: 'bar', style: `--share:${share}` })));
    });
    replaceChildren(byType.body, typeRows.length ? typeRows : [noData(3)]);

    const active = [];
    for (const d of list) {
      for (const a of ALARMS) {
        const r = state.latestOf(d.id, a);
        if (r?.value === true) active.push({ d, a, r });
      }
    }
    replaceChildren(
      alarms.body,
      active.length
        ? active.slice(0, MAX_METERS).map(({ d, a }) => h('tr', { class: 'alarm', 'data-device': d.id, 'data-alarm': a }, h('td', { class: 'id', text: d.id }), h('td', { text: t(`water.type.${waterTypeOf(d)}`) }), h('td', {}, badge('alarm', t(`metric.${a}`)))))
        : [h('tr', {}, h('td', { colspan: 3, class: 'empty ok', text: t('water.noAlarms') }))],
    );

    const rows = vols.slice(0, MAX_METERS).map(({ d, vol }) => {
      const f = metricEl(d.id, 'flow');
      const v = valueEl(`meter.${d.id}.volume`);
      setValue(f, state.latestOf(d.id, 'flow'), 'm³/h', ctx);
      setValue(v, vol, 'm³', ctx);
      return h('tr', { 'data-device': d.id }, h('td', { class: 'id', text: d.id }), h('td', { text: t(`water.type.${waterTypeOf(d)}`) }), h('td', { class: 'num' }, f), h('td', { class: 'num' }, v));
    });
    if (list.length > MAX_METERS) rows.push(h('tr', {}, h('td', { colspan: 4, class: 'more', text: t('common.more', { n: list.length - MAX_METERS }) })));
    replaceChildren(meters.body, rows.length ? rows : [noData(4)]);
  }

  function update() {
    const today = startOfDay(ctx.now(), ctx.tz);
    if (today !== dayStart) {
      dayStart = today;
      baseline.clear();
      loadBaselines().catch(() => {});
    }
    render();
    ctx.rendered();
  }

  return viewOf(update, ctrl, kpis);
}
