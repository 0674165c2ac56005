// Parking: occupancy by zone, free spaces, car retrievals against the 5-minute promise, chargers.
import { matchPairs, occupancyByZone, Ring } from '../derive.js';
import { badge, card, h, metricEl, replaceChildren, setValue, stat, table } from '../dom.js';
import { formatDuration, formatNumber, startOfDay } from '../format.js';
import { kpiStat, loadEvents, noDataRow, poller, sharedKpis, timeCell, viewOf } from './common.js';
import { mountTransit } from './transit-card.js';

const PROMISE_S = 300;
const ROWS = 10;
const MAX_ZONES = 60;
const MAX_CHARGERS = 40;
const RETRIEVAL_TYPES = ['retrieval_requested', 'retrieval_completed'];
const LIMIT = 300;

export function mount(root, ctx) {
  const { state, t } = ctx;
  const zones = table(['parking.zone', 'parking.occupied', 'parking.free', 'parking.spaces', 'parking.unknown'], ctx, 'zones');
  const garages = table(['parking.garages', 'parking.free', 'parking.spaces'], ctx, 'garages');
  const p95 = kpiStat(ctx, 'car_retrieval_time_p95', 'day', 'parking.p95');
  const within = kpiStat(ctx, 'car_retrieval_within_5min', 'day', 'parking.within');
  const waiting = stat('parking.waiting', 'parking.waiting', ctx);
  const recent = table(['common.time', 'parking.request', 'parking.took'], ctx, 'retrievals');
  const open = table(['common.time', 'parking.request', 'parking.waiting'], ctx, 'open');
  const chargers = table(['common.device', 'common.status', 'parking.power'], ctx, 'chargers');
  const chargerSummary = h('div', { class: 'chips' });
  const freeTotal = stat('parking.freeSpaces', 'parking.freeSpaces', ctx);
  const ctrl = new window.AbortController();
  const transit = mountTransit(ctx, ctrl.signal);

  root.append(
    h(
      'div',
      { class: 'grid' },
      card('parking.zones', ctx, zones.el),
      card('parking.garages', ctx, h('div', { class: 'stats' }, freeTotal.el), garages.el),
      card(
        'parking.retrievals',
        ctx,
        h('div', { class: 'stats' }, p95.el, within.el, waiting.el),
        h('h3', { text: t('parking.waiting') }),
        open.el,
        h('h3', { text: t('parking.recent') }),
        recent.el,
      ),
      card('parking.chargers', ctx, chargerSummary, chargers.el),
      transit.el,
    ),
  );

  const retrievals = new Ring(600);
  const from = startOfDay(ctx.now(), ctx.tz);
  loadEvents(ctx, RETRIEVAL_TYPES, { from, limit: LIMIT, signal: ctrl.signal, what: 'retrievals' }, (list) => {
    for (const e of list) retrievals.push(e);
    renderRetrievals();
  });

  const kpis = poller(async () => {
    const rows = await sharedKpis(ctx.api, 'day');
    p95.set(rows);
    within.set(rows);
  }, 60_000);

  function renderGarages() {
    let free = 0;
    let worst = 'good';
    // Barrier gates are garage devices too, but only report events: list those that count spaces.
    const list = state.devicesOf('parking_garage').filter((g) => state.latestOf(g.id, 'spaces_free') || state.latestOf(g.id, 'spaces_total'));
    const rows = list.slice(0, MAX_ZONES).map((g) => {
      const f = state.latestOf(g.id, 'spaces_free');
      const fv = metricEl(g.id, 'spaces_free');
      const tv = metricEl(g.id, 'spaces_total');
      setValue(fv, f, 'count', ctx);
      setValue(tv, state.latestOf(g.id, 'spaces_total'), 'count', ctx);
      if (typeof f?.value === 'number' && f.quality !== 'bad') free += f.value;
      if (f && f.quality !== 'good') worst = 'uncertain';
      return h('tr', { 'data-device': g.id }, h('td', { class: 'id', text: g.id }), h('td', { class: 'num' }, fv), h('td', { class: 'num' }, tv));
    });
    replaceChildren(garages.body, rows.length ? rows : [noData(3)]);
    // With no garage system, free spaces come from the space sensors themselves.
    if (list.length === 0) {
      const rows = occupancyByZone(state.devicesOf('parking_space'), (id, m) => state.latestOf(id, m));
      free = rows.reduce((n, r) => n + (r.total - r.occupied - r.unknown), 0);
    }
    setValue(freeTotal.value, { value: free, quality: worst }, 'count', ctx);
  }

  function renderZones() {
    const rows = occupancyByZone(state.devicesOf('parking_space'), (id, m) => state.latestOf(id, m));
    const sum = rows.reduce((a, r) => ({ total: a.total + r.total, occupied: a.occupied + r.occupied, unknown: a.unknown + r.unknown }), { total: 0, occupied: 0, unknown: 0 });
    const row = (r, cls) => {
      const share = r.total ? r.occupied / r.total : 0;
      return h(
        'tr',
        { class: cls, 'data-zone': r.zone ?? '' },
        h('th', { scope: 'row' }, r.zone ?? t('common.total')),
        h('td', { class: 'num', 'data-k': 'occupied' }, formatNumber(r.occupied, ctx.lang, 0), h('span', { class: 'bar', style: `--share:${share}` })),
        h('td', { class: 'num', 'data-k': 'free' }, formatNumber(r.total - r.occupied - r.unknown, ctx.lang, 0)),
        h('td', { class: 'num', 'data-k': 'total' }, formatNumber(r.total, ctx.lang, 0)),
        h('td', { class: `num ${r.unknown ? 'q-stale' : ''}`, 'data-k': 'unknown' }, formatNumber(r.unknown, ctx.lang, 0)),
      );
    };
    replaceChildren(zones.body, [...rows.slice(0, MAX_ZONES).map((r) => row(r)), rows.length ? row({ ...sum, zone: undefined }, 'total') : noData(5)]);
  }

  const noData = (span) => noDataRow(t, span);

  function renderRetrievals() {
    const { done, open: pending } = matchPairs(retrievals.toArray(), 'retrieval_requested', ['retrieval_completed'], 'request_id');
    const now = ctx.now();
    setValue(waiting.value, { value: pending.length, quality: 'good' }, 'count', ctx);
    replaceChildren(
      recent.body,
      done.length
        ? done.slice(0, ROWS).map((r) =>
            h('tr', { class: r.seconds > PROMISE_S ? 'late' : 'ok', 'data-id': r.id, 'data-seconds': r.seconds }, timeCell(r.end, ctx), h('td', { class: 'id', text: r.id }), h('td', { class: 'num' }, formatDuration(r.seconds, ctx.lang))),
          )
        : [noData(3)],
    );
    const newestOpen = pending.slice(-ROWS).reverse();
    replaceChildren(
      open.body,
      newestOpen.length
        ? newestOpen.map((r) => {
            const age = (now - r.start) / 1000;
            return h('tr', { class: age > PROMISE_S ? 'late' : 'ok', 'data-id': r.id, 'data-start': r.start }, timeCell(r.start, ctx), h('td', { class: 'id', text: r.id }), h('td', { class: 'num' }, formatDuration(age, ctx.lang)));
          })
        : [noData(3)],
    );
  }

  function renderChargers() {
    const list = state.devicesOf('ev_charger');
    const byStatus = new Map();
    for (const d of list) {
      const st = String(state.latestOf(d.id, 'status')?.value ?? 'unknown');
      byStatus.set(st, (byStatus.get(st) ?? 0) + 1);
    }
    replaceChildren(
      chargerSummary,
      [...byStatus].sort((a, b) => b[1] - a[1]).map(([st, n]) => h('span', { class: 'chip', 'data-status': st }, badge(st, st === 'unknown' ? t('status.unknown') : t(`enum.${st}`)), ` ${n}`)),
    );
    const rows = list.slice(0, MAX_CHARGERS).map((d) => {
      const st = state.latestOf(d.id, 'status');
      const p = metricEl(d.id, 'power');
      setValue(p, state.latestOf(d.id, 'power'), 'W', ctx);
      const stText = st ? t(`enum.${st.value}`) : '–';
      return h('tr', { 'data-device': d.id }, h('td', { class: 'id', text: d.id }), h('td', {}, badge(String(st?.value ?? 'none'), stText)), h('td', { class: 'num' }, p));
    });
    if (list.length > MAX_CHARGERS) rows.push(h('tr', {}, h('td', { colspan: 3, class: 'more', text: t('common.more', { n: list.length - MAX_CHARGERS }) })));
    replaceChildren(chargers.body, rows.length ? rows : [noData(3)]);
  }

  function update(batch) {
    for (const e of batch.events) if (RETRIEVAL_TYPES.includes(e.type)) retrievals.push(e);
    renderZones();
    renderGarages();
    renderChargers();
    // Waiting times grow between events, so the retrieval tables redraw every time.
    renderRetrievals();
    transit.update(batch);
    ctx.rendered();
  }

  return viewOf(update, ctrl, { stop: () => (kpis.stop(), transit.stop()) });
}
