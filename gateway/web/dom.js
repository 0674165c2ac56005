// A few DOM helpers in place of a framework: build elements, show a value with its unit
// and quality, and replace a list's rows without leaving old ones behind.
import { formatValue, formatTime, qualityClass } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, props) {
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', v);
    else if (k === 'text') el.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
  }
}

/** An HTML element: h('td', {class: 'num', 'data-k': 'pv'}, 'text', child). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** An SVG element, same call shape as h(). */
export function s(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** Replace every child of `el` (old rows become garbage, so a re-rendered list never grows). */
export function replaceChildren(el, children) {
  el.replaceChildren(...children.filter(Boolean));
}

/** Set text only when it changed: cheap to call on every live update. */
export function setText(el, text) {
  if (el && el.textContent !== text) el.textContent = text;
}

/** A placeholder for one value: number, unit, and its quality as a class and a tooltip. */
export function valueEl(key, tag = 'span') {
  return h(tag, { class: 'val q-unknown', 'data-k': key }, h('span', { class: 'num', text: '–' }), h('span', { class: 'unit' }));
}

/** A value that is one device's metric as the gateway has it (the browser test checks each against the API). */
export function metricEl(device, metric) {
  const el = valueEl(`${device}.${metric}`);
  el.dataset.device = device;
  el.dataset.metric = metric;
  return el;
}

/**
 * Show `rec` ({value, quality, reason?, ts?}) in a valueEl. data-raw / data-ts / data-quality
 * carry the exact value so a test (or a curious operator with devtools) can check it.
 */
export function setValue(el, rec, unit, ctx) {
  if (!el) return;
  const v = rec?.value ?? null;
  const parts = formatValue(v, unit, ctx.lang, ctx.t);
  const numEl = el.firstChild;
  const unitEl = el.lastChild;
  setText(numEl, parts.text);
  setText(unitEl, parts.unit ? ` ${parts.unit}` : '');
  // No reading at all is quiet (q-none); a reading that came in bad is flagged even without a number.
  const cls = `val ${!rec || rec.reason === 'no_data' ? 'q-none' : qualityClass(rec.quality, rec.reason)}`;
  if (el.getAttribute('class') !== cls) el.setAttribute('class', cls);
  el.dataset.raw = v === null ? '' : String(v);
  el.dataset.quality = rec?.quality ?? '';
  el.dataset.ts = rec?.ts ? String(rec.ts) : '';
  const qLabel = rec ? ctx.t(`quality.${rec.reason === 'stale' ? 'stale' : rec.quality}`) : ctx.t('common.noData');
  const when = rec?.ts ? ` · ${formatTime(rec.ts, ctx.lang, ctx.tz, true)}` : '';
  const why = rec?.reason ? ` (${rec.reason})` : '';
  el.title = `${qLabel}${why}${when}`;
}

/** A card: a titled section of a view. */
export function card(titleKey, ctx, ...children) {
  return h('section', { class: 'card' }, h('h2', { 'data-i18n': titleKey, text: ctx.t(titleKey) }), ...children);
}

/** A small "label: value" line used in cards. */
export function stat(labelKey, key, ctx) {
  const v = valueEl(key);
  return { el: h('div', { class: 'stat' }, h('span', { class: 'label', 'data-i18n': labelKey, text: ctx.t(labelKey) }), v), value: v };
}

/** A table with translated headers; returns the table and its body. */
export function table(headKeys, ctx, cls = '') {
  const body = h('tbody');
  const el = h(
    'table',
    { class: `tbl ${cls}`.trim() },
    h('thead', {}, h('tr', {}, headKeys.map((k) => h('th', { 'data-i18n': k, text: ctx.t(k) })))),
    body,
  );
  return { el, body };
}

/** A status badge: met / missed / unknown, online / offline … */
export function badge(kind, text) {
  return h('span', { class: `badge b-${kind}`, text });
}
