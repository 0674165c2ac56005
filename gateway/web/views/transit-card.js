// Transit card of the Parking view: the 10-minute circle (share of households within a 10-minute
// walk of a stop), live departures per stop and line from the GTFS-Realtime boards (class
// transit_stop), today's service availability and shared-parking use, and the day's
// cancellations and service alerts.
import { Ring } from '../derive.js';
import { badge, card, h, metricEl, replaceChildren, setValue } from '../dom.js';
import { formatDuration, startOfDay } from '../format.js';
import { kpiStat, loadEvents, noDataRow, poller, sharedKpis, timeCell } from './common.js';

const MAX_BOARDS = 40;
const NOTICES = 6;
const NOTICE_TYPES = ['trip_cancelled', 'service_alert'];

const clockFormats = new Map();
/** "08:20": timetables are in whole minutes. */
function hhmm(ts, lang, tz) {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return '–';
  const key = `${lang}|${tz ?? ''}`;
  let f = clockFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(lang === 'zh' ? 'zh-CN' : 'en-GB', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(tz ? { timeZone: tz } : {}) });
    clockFormats.set(key, f);
  }
  return f.format(new Date(ts));
}

/** A delay as riders read it: on time, or + / − whole minutes and seconds. */
function delayText(seconds, ctx) {
  const s = Math.round(seconds);
  if (Math.abs(s) < 30) return ctx.t('transit.onTime');
  return `${s > 0 ? '+' : '−'}${formatDuration(Math.abs(s), ctx.lang)}`;
}

/** Mount the card; `signal` aborts its loads. Returns its element, a live `update` and `stop`. */
export function mountTransit(ctx, signal) {
  const { state, t } = ctx;
  const access = kpiStat(ctx, 'transit_access_10min', 'day', 'transit.access');
  const walk = kpiStat(ctx, 'transit_walk_time_p95', 'day', 'transit.walk');
  const availability = kpiStat(ctx, 'transit_service_availability', 'day', 'transit.availability');
  const shared = kpiStat(ctx, 'shared_parking_utilisation', 'day', 'transit.shared');
  const heads = ['transit.stop', 'transit.next', 'transit.at', 'transit.then', 'transit.delay', 'common.status'];
  const body = h('tbody');
  const boards = h('table', { class: 'tbl transit-boards' }, h('thead', {}, h('tr', {}, heads.map((k) => h('th', { 'data-i18n': k, text: t(k) })))), body);
  const notices = h('tbody');
  const el = card(
    'transit.title',
    ctx,
    h('div', { class: 'stats' }, access.el, walk.el, availability.el, shared.el),
    boards,
    h('h3', { text: t('transit.notices') }),
    h('table', { class: 'tbl transit-notices' }, notices),
  );

  const recent = new Ring(200);
  loadEvents(ctx, NOTICE_TYPES, { from: startOfDay(ctx.now(), ctx.tz), limit: 100, signal, what: 'transit notices' }, (list) => {
    for (const e of list) recent.push(e);
    renderNotices();
  });
  const kpis = poller(async () => {
    const rows = await sharedKpis(ctx.api, 'day');
    for (const s of [access, walk, availability, shared]) s.set(rows);
  }, 60_000);

  function renderBoards() {
    const name = (d) => d.name ?? d.id;
    const list = state
      .devicesOf('transit_stop')
      .slice()
      .sort((a, b) => (a.tags?.stop ?? '').localeCompare(b.tags?.stop ?? '') || name(a).localeCompare(name(b)));
    const rows = list.slice(0, MAX_BOARDS).map((d) => {
      const next = state.latestOf(d.id, 'next_departure');
      const cells = ['next_departure', 'following_departure', 'delay'].map((m) => {
        const v = metricEl(d.id, m);
        const rec = state.latestOf(d.id, m);
        // "No departure within the horizon" is an empty cell, not a fault (the status says no service).
        setValue(v, rec?.reason === 'no_departure' ? { ...rec, reason: 'no_data' } : rec, 's', ctx);
        if (m === 'delay' && typeof rec?.value === 'number') v.firstChild.textContent = delayText(rec.value, ctx);
        return v;
      });
      // The clock time the next departure leaves at: when the board said so plus what it said.
      const at = typeof next?.value === 'number' && next.ts ? hhmm(next.ts + next.value * 1000, ctx.lang, ctx.tz) : '–';
      const st = state.latestOf(d.id, 'service_status');
      const status = st?.value === undefined || st?.value === null ? 'unknown' : String(st.value);
      return h(
        'tr',
        { 'data-device': d.id, 'data-status': status },
        h('td', { class: 'id', text: name(d) }),
        h('td', { class: 'num' }, cells[0]),
        h('td', { class: 'time', 'data-k': 'at', text: at }),
        h('td', { class: 'num' }, cells[1]),
        h('td', { class: 'num' }, cells[2]),
        h('td', {}, badge(`transit-${status}`, status === 'unknown' ? t('status.unknown') : t(`enum.${status}`))),
      );
    });
    replaceChildren(body, rows.length ? rows : [noDataRow(t, heads.length)]);
  }

  function renderNotices() {
    const names = new Map(state.devicesOf('transit_stop').map((d) => [d.id, d.name ?? d.id]));
    const list = recent.toArray().slice(-NOTICES).reverse();
    replaceChildren(
      notices,
      list.length
        ? list.map((e) => {
            const a = e.attributes ?? {};
            const what = e.type === 'trip_cancelled' ? t('transit.cancelled', { line: a.line ?? '', time: hhmm(a.scheduled, ctx.lang, ctx.tz) }) : String(a.header ?? a.effect ?? '');
            return h('tr', { 'data-type': e.type }, timeCell(e.ts, ctx), h('td', { class: 'id', text: names.get(e.device) ?? e.device }), h('td', { text: what }));
          })
        : [h('tr', {}, h('td', { class: 'empty', text: t('transit.noNotices') }))],
    );
  }

  function update(batch) {
    for (const e of batch.events) if (NOTICE_TYPES.includes(e.type)) recent.push(e);
    renderBoards();
    renderNotices();
  }

  return { el, update, stop: () => kpis.stop() };
}
