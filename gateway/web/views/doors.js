// Doors: recent access events (denied, forced and held-open stand out) and which doors are open.
import { compareIds, Ring } from '../derive.js';
import { badge, card, h, metricEl, replaceChildren, setValue, table } from '../dom.js';
import { startOfDay } from '../format.js';
import { kpiStat, loadEvents, noDataRow, poller, sharedKpis, timeCell, viewOf } from './common.js';

const TYPES = ['access_granted', 'access_denied', 'door_forced', 'door_held_open'];
const LIMIT = 300;
const ALARMS = new Set(['access_denied', 'door_forced', 'door_held_open']);
const ROWS = 30;
const MAX_DOORS = 60;

export function mount(root, ctx) {
  const { state, t } = ctx;
  const denied = kpiStat(ctx, 'access_denied_rate', 'day', 'doors.deniedRate');
  const forced = kpiStat(ctx, 'door_forced_count', 'day', 'doors.forced');
  const held = kpiStat(ctx, 'door_held_open_count', 'day', 'doors.heldOpen');
  const list = table(['common.time', 'common.device', 'common.type', 'doors.method'], ctx, 'door-events');
  const onlyAlarms = h('input', { type: 'checkbox', id: 'only-alarms' });
  const doors = table(['common.device', 'common.status'], ctx, 'doors');

  root.append(
    h(
      'div',
      { class: 'grid' },
      card(
        'doors.recent',
        ctx,
        h('div', { class: 'stats' }, denied.el, forced.el, held.el),
        h('label', { class: 'check' }, onlyAlarms, ` ${t('doors.denied')} / ${t('doors.forced')} / ${t('doors.heldOpen')}`),
        list.el,
      ),
      card('doors.doors', ctx, doors.el),
    ),
  );

  const events = new Ring(300);
  const ctrl = new window.AbortController();
  const from = startOfDay(ctx.now(), ctx.tz);
  loadEvents(ctx, TYPES, { from, limit: LIMIT, signal: ctrl.signal, what: 'doors' }, (list) => {
    // Only the newest few hundred matter to the list.
    for (const e of list.slice(-events.cap)) events.push(e);
    renderEvents();
  });

  const kpis = poller(async () => {
    const rows = await sharedKpis(ctx.api, 'day');
    for (const k of [denied, forced, held]) k.set(rows);
  }, 30_000);

  const noData = (span) => noDataRow(t, span);

  function renderEvents() {
    // Devices may report late or out of order: the list is in event time, newest first.
    const pick = events
      .toArray()
      .filter((e) => !onlyAlarms.checked || ALARMS.has(e.type))
      .sort((a, b) => b.ts - a.ts)
      .slice(0, ROWS);
    replaceChildren(
      list.body,
      pick.length
        ? pick.map((e) =>
            h(
              'tr',
              { class: ALARMS.has(e.type) ? `alarm ${e.type}` : '', 'data-type': e.type, 'data-device': e.device, 'data-ts': e.ts },
              timeCell(e.ts, ctx),
              h('td', { class: 'id', text: e.device }),
              h('td', {}, ALARMS.has(e.type) ? badge('alarm', t(`event.${e.type}`)) : t(`event.${e.type}`)),
              h('td', { text: e.attributes?.method ? t(`method.${e.attributes.method}`) : '' }),
            ),
          )
        : [noData(4)],
    );
  }
  onlyAlarms.addEventListener('change', renderEvents);

  function renderDoors() {
    const all = state.devicesOf('access_door');
    const withState = all.map((d) => ({ d, rec: state.latestOf(d.id, 'door_open') }));
    withState.sort((a, b) => Number(b.rec?.value === true) - Number(a.rec?.value === true) || compareIds(a.d.id, b.d.id));
    const rows = withState.slice(0, MAX_DOORS).map(({ d, rec }) => {
      const v = metricEl(d.id, 'door_open');
      setValue(v, rec, 'bool', { ...ctx, t: (k) => (k === 'bool.true' ? t('doors.open') : k === 'bool.false' ? t('doors.closed') : t(k)) });
      return h('tr', { class: rec?.value === true ? 'open' : '', 'data-device': d.id }, h('td', { class: 'id', text: d.id }), h('td', {}, v));
    });
    if (all.length > MAX_DOORS) rows.push(h('tr', {}, h('td', { colspan: 2, class: 'more', text: t('common.more', { n: all.length - MAX_DOORS }) })));
    replaceChildren(doors.body, rows.length ? rows : [noData(2)]);
  }

  function update(batch) {
    let touched = false;
    for (const e of batch.events) {
      if (!TYPES.includes(e.type)) continue;
      events.push(e);
      touched = true;
    }
    if (touched) renderEvents();
    renderDoors();
    ctx.rendered();
  }

  return viewOf(update, ctrl, kpis);
}
