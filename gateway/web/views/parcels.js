// Parcels: locker occupancy, parcels waiting, parcel-to-door times against the 30-minute
// promise, and parcels deposited more than 48 hours ago and still not collected.
import { matchPairs, parcelsWaiting, Ring, sumOf } from '../derive.js';
import { card, h, metricEl, replaceChildren, setValue, stat, table } from '../dom.js';
import { formatDuration } from '../format.js';
import { kpiStat, loadEvents, noDataRow, poller, sharedKpis, timeCell, viewOf } from './common.js';

const PROMISE_S = 1800;
const OVERDUE_MS = 48 * 3600_000;
const LOOKBACK_MS = 4 * 86_400_000;
const ROWS = 10;
const MAX_LOCKERS = 40;
const TYPES = ['parcel_arrived', 'parcel_deposited', 'parcel_picked_up', 'parcel_delivered'];
const LIMIT = 1500; // per type, newest first: with the ring below, a bounded history

export function mount(root, ctx) {
  const { state, t } = ctx;
  const lockers = table(['parcels.locker', 'parcels.compartments', 'common.total'], ctx, 'lockers');
  const waiting = stat('parcels.waiting', 'parcels.waiting', ctx);
  const p95 = kpiStat(ctx, 'parcel_to_door_time_p95', 'day', 'parcels.p95');
  const within = kpiStat(ctx, 'parcel_within_30min', 'day', 'parcels.within');
  const overdueKpi = kpiStat(ctx, 'parcels_overdue', 'day');
  const recent = table(['common.time', 'parcels.parcel', 'common.type', 'parcels.took'], ctx, 'parcels');
  const overdue = table(['parcels.since', 'parcels.parcel', 'parcels.took'], ctx, 'overdue');

  root.append(
    h(
      'div',
      { class: 'grid' },
      card('parcels.lockers', ctx, h('div', { class: 'stats' }, waiting.el), lockers.el),
      card('parcels.times', ctx, h('div', { class: 'stats' }, p95.el, within.el), h('h3', { text: t('parcels.recent') }), recent.el),
      card('parcels.overdue', ctx, h('div', { class: 'stats' }, overdueKpi.el), overdue.el),
    ),
  );

  // Enough history for the 48-hour rule; the ring bounds what a busy community can send.
  const events = new Ring(6000);
  const ctrl = new window.AbortController();
  const from = ctx.now() - LOOKBACK_MS;
  loadEvents(ctx, TYPES, { from, limit: LIMIT, signal: ctrl.signal, what: 'parcels' }, (list) => {
    for (const e of list) events.push(e);
    renderEvents();
  });

  const kpis = poller(async () => {
    const rows = await sharedKpis(ctx.api, 'day');
    for (const k of [p95, within, overdueKpi]) k.set(rows);
  }, 60_000);

  const noData = (span) => noDataRow(t, span);

  function renderLockers() {
    // The logistics platform is a parcel_locker device too, with events only: list real locker banks.
    const list = state.devicesOf('parcel_locker').filter((d) => state.latestOf(d.id, 'compartments_total') || state.latestOf(d.id, 'compartments_occupied'));
    const occ = [];
    const rows = list.slice(0, MAX_LOCKERS).map((d) => {
      const o = state.latestOf(d.id, 'compartments_occupied');
      const tot = state.latestOf(d.id, 'compartments_total');
      if (o) occ.push(o);
      const share = typeof o?.value === 'number' && typeof tot?.value === 'number' && tot.value > 0 ? o.value / tot.value : 0;
      const ov = metricEl(d.id, 'compartments_occupied');
      const tv = metricEl(d.id, 'compartments_total');
      setValue(ov, o, 'count', ctx);
      setValue(tv, tot, 'count', ctx);
      return h('tr', { 'data-device': d.id }, h('td', { class: 'id', text: d.id }), h('td', { class: 'num' }, ov, h('span', { class: `bar ${share > 0.9 ? 'hot' : ''}`, style: `--share:${share}` })), h('td', { class: 'num' }, tv));
    });
    if (list.length > MAX_LOCKERS) rows.push(h('tr', {}, h('td', { colspan: 3, class: 'more', text: t('common.more', { n: list.length - MAX_LOCKERS }) })));
    replaceChildren(lockers.body, rows.length ? rows : [noData(3)]);
    // Parcels waiting = compartments holding a parcel, straight from the lockers themselves.
    for (const d of list.slice(MAX_LOCKERS)) {
      const o = state.latestOf(d.id, 'compartments_occupied');
      if (o) occ.push(o);
    }
    setValue(waiting.value, sumOf(occ), 'count', ctx);
  }

  function renderEvents() {
    const all = events.toArray();
    const now = ctx.now();
    const { done } = matchPairs(all, 'parcel_arrived', ['parcel_picked_up', 'parcel_delivered'], 'parcel');
    replaceChildren(
      recent.body,
      done.length
        ? done.slice(0, ROWS).map((p) =>
            h(
              'tr',
              { class: p.seconds > PROMISE_S ? 'late' : 'ok', 'data-id': p.id, 'data-seconds': p.seconds, 'data-type': p.type },
              timeCell(p.end, ctx),
              h('td', { class: 'id', text: p.id.slice(0, 12) }),
              h('td', { text: t(`event.${p.type}`) }),
              h('td', { class: 'num' }, formatDuration(p.seconds, ctx.lang)),
            ),
          )
        : [noData(4)],
    );
    const late = parcelsWaiting(all, now, OVERDUE_MS).overdue;
    replaceChildren(
      overdue.body,
      late.length
        ? late.slice(0, ROWS).map((p) => h('tr', { class: 'late', 'data-id': p.id, 'data-start': p.start }, timeCell(p.start, ctx), h('td', { class: 'id', text: p.id.slice(0, 12) }), h('td', { class: 'num' }, formatDuration((now - p.start) / 1000, ctx.lang))))
        : [noData(3)],
    );
  }

  function update(batch) {
    for (const e of batch.events) if (TYPES.includes(e.type)) events.push(e);
    renderLockers();
    renderEvents();
    ctx.rendered();
  }

  return viewOf(update, ctrl, kpis);
}
