// Devices: status, last seen and quality of every device, filterable and paged (1,000 devices
// never means 1,000 rows in the DOM); a click shows that device's values and one series.
import { compareIds, filterDevices } from '../derive.js';
import { badge, card, h, replaceChildren, setText } from '../dom.js';
import { formatAgo, formatNumber } from '../format.js';
import { deviceDetail } from './device-detail.js';

const PAGE = 50;

export function mount(root, ctx) {
  const { state, t } = ctx;
  const text = h('input', { type: 'search', class: 'search', placeholder: t('devices.search'), 'aria-label': t('devices.search') });
  const cls = h('select', { 'aria-label': t('devices.class') });
  const status = h('select', { 'aria-label': t('common.status') });
  const quality = h('select', { 'aria-label': t('devices.quality') }, ...['', 'good', 'uncertain', 'bad'].map((q) => h('option', { value: q, text: q ? t(`quality.${q}`) : t('devices.allQuality') })));
  const count = h('span', { class: 'count' });
  const prev = h('button', { type: 'button', text: t('devices.prev') });
  const next = h('button', { type: 'button', text: t('devices.next') });
  const body = h('tbody');
  const tbl = h(
    'table',
    { class: 'tbl devices' },
    h('thead', {}, h('tr', {}, ['common.device', 'devices.class', 'devices.connection', 'common.status', 'devices.lastSeen', 'devices.quality'].map((k) => h('th', { text: t(k) })))),
    body,
  );
  const detailEl = h('div', { class: 'detail' }, h('p', { class: 'empty', text: t('devices.pick') }));

  root.append(
    h(
      'div',
      { class: 'grid devices-grid' },
      h('section', { class: 'card' }, h('h2', { text: t('nav.devices') }), h('div', { class: 'filters' }, text, cls, status, quality, count), tbl, h('div', { class: 'pager' }, prev, next)),
      card('devices.metrics', ctx, detailEl),
    ),
  );

  let page = 0;
  let selected = ctx.arg ? decodeURIComponent(ctx.arg) : '';
  let detail = null;

  function fillSelect(sel, values, allKey, label) {
    const want = ['', ...values];
    const have = [...sel.options].map((o) => o.value);
    if (want.join('|') === have.join('|')) return;
    const keep = sel.value;
    sel.replaceChildren(...want.map((v) => h('option', { value: v, text: v ? label(v) : t(allKey) })));
    sel.value = want.includes(keep) ? keep : '';
  }

  function render() {
    const all = [...state.devices.values()];
    fillSelect(cls, [...new Set(all.map((d) => d.class))].sort(), 'devices.allClasses', (v) => t(`class.${v}`));
    fillSelect(status, [...new Set(all.map((d) => d.status).filter(Boolean))].sort(), 'devices.allStatus', (v) => t(`status.${v}`));
    const list = filterDevices(all, { text: text.value, cls: cls.value, status: status.value, quality: quality.value }).sort((a, b) => compareIds(a.id, b.id));
    const pages = Math.max(1, Math.ceil(list.length / PAGE));
    page = Math.min(page, pages - 1);
    const from = page * PAGE;
    const shown = list.slice(from, from + PAGE);
    setText(count, list.length > PAGE ? t('devices.page', { from: formatNumber(from + 1, ctx.lang, 0), to: formatNumber(from + shown.length, ctx.lang, 0), n: formatNumber(list.length, ctx.lang, 0) }) : t(list.length === 1 ? 'devices.countOne' : 'devices.count', { n: formatNumber(list.length, ctx.lang, 0) }));
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
    const now = ctx.now();
    replaceChildren(
      body,
      shown.map((d) =>
        h(
          'tr',
          { 'data-device': d.id, class: d.id === selected ? 'selected' : '', tabindex: 0 },
          h('td', { class: 'id', text: d.id }),
          h('td', { text: t(`class.${d.class}`) }),
          h('td', { text: d.connection ?? '' }),
          h('td', {}, badge(d.status ?? 'unknown', t(`status.${d.status ?? 'unknown_device'}`))),
          h('td', { class: 'time', 'data-ts': d.lastSeen ?? '' }, d.lastSeen ? formatAgo(d.lastSeen, now, ctx.lang) : '–'),
          h('td', { class: `q q-${d.quality ?? 'unknown'}`, text: d.quality ? t(`quality.${d.quality}`) : '–' }),
        ),
      ),
    );
  }

  function select(id) {
    if (!id) return;
    selected = id;
    detail?.destroy();
    const d = state.devices.get(id) ?? { id, class: '' };
    detail = deviceDetail(d, ctx);
    detailEl.replaceChildren(detail.el);
    if (window.location.hash !== `#devices/${encodeURIComponent(id)}`) window.history.replaceState(null, '', `#devices/${encodeURIComponent(id)}`);
    render();
  }

  body.addEventListener('click', (e) => select(e.target.closest('tr')?.dataset.device));
  body.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') select(e.target.closest('tr')?.dataset.device);
  });
  for (const el of [text, cls, status, quality]) el.addEventListener('input', () => ((page = 0), render()));
  prev.addEventListener('click', () => ((page = Math.max(0, page - 1)), render()));
  next.addEventListener('click', () => ((page += 1), render()));
  if (selected) select(selected);
  // Opening the list is when an operator expects it complete: ask for devices found since the last refresh.
  ctx.api
    .devices()
    .then((list) => {
      state.setDevices(list);
      render();
    })
    .catch(() => {});

  function update(batch) {
    render();
    detail?.update(batch);
    ctx.rendered();
  }

  return {
    update,
    destroy() {
      detail?.destroy();
    },
  };
}
