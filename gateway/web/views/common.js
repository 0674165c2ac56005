// Helpers the views share: periodic refresh that stops with the view, KPI rows as values
// with a quality, and a small concurrency limit for fan-out requests.
import { h, setValue, valueEl } from '../dom.js';
import { formatAgo, formatTime, kpiUnit } from '../format.js';

/**
 * Run `fn(signal)` now and every `ms` until stopped; a run that fails leaves the last values
 * on screen (their quality and time say how old they are).
 */
export function poller(fn, ms) {
  const ctrl = new window.AbortController();
  let timer = null;
  let stopped = false;
  const run = async () => {
    try {
      await fn(ctrl.signal);
    } catch (err) {
      if (!stopped && err?.name !== 'AbortError') console.warn('refresh failed:', err?.message ?? err);
    }
    if (!stopped) timer = setTimeout(run, ms);
  };
  run();
  return {
    signal: ctrl.signal,
    stop() {
      stopped = true;
      clearTimeout(timer);
      ctrl.abort();
    },
  };
}

// Every /api/kpis call computes all KPIs of a window on the gateway, so views share answers:
// one request per (window, at) per TTL, whichever views ask. Bounded: stale entries are dropped.
const KPI_TTL_MS = 5_000;
const kpiCache = new Map();

/** GET /api/kpis for a window (and optional `at`), shared between views for a few seconds. */
export function sharedKpis(api, window, at) {
  const key = `${window}|${at ?? ''}`;
  const now = Date.now();
  for (const [k, e] of kpiCache) if (now - e.t > KPI_TTL_MS) kpiCache.delete(k);
  let e = kpiCache.get(key);
  if (!e) {
    // No abort signal: a view that goes away must not cancel an answer another view awaits.
    const p = api.kpis(at === undefined ? { window } : { window, at });
    e = { t: now, p };
    kpiCache.set(key, e);
    p.catch(() => kpiCache.delete(key));
  }
  return e.p;
}

/** The site-wide row of a KPI (not a per-device one), or undefined. */
export function pickKpi(rows, name, window) {
  return rows.find((r) => r.kpi === name && (!window || r.window === window) && !r.device && (!r.scope || r.scope.site === true || r.scope === 'site'));
}

/** A KPI row as a value with quality: low coverage is uncertain, no value is bad. */
export function kpiRec(row) {
  if (!row || row.value === null || row.value === undefined) return { value: null, quality: 'bad', reason: 'no_data' };
  const low = typeof row.coverage === 'number' && row.coverage < (row.target?.min_coverage ?? 0.9);
  return { value: row.value, quality: low ? 'uncertain' : 'good', reason: low ? 'low_coverage' : undefined };
}

/** A labelled KPI value that refreshes from rows: {el, set(rows)}. */
export function kpiStat(ctx, name, window, labelKey = `kpi.${name}`) {
  const v = valueEl(`kpi.${name}.${window}`);
  const el = h('div', { class: 'stat' }, h('span', { class: 'label', text: ctx.t(labelKey) }), v);
  return {
    el,
    set(rows) {
      const row = pickKpi(rows, name, window);
      setValue(v, kpiRec(row), kpiUnit(name, row?.unit), ctx);
    },
  };
}

/** An empty table's one row: "no data" across `span` columns. */
export function noDataRow(t, span) {
  return h('tr', {}, h('td', { colspan: span, class: 'empty', text: t('common.noData') }));
}

/** A `.catch` handler that logs a failed load unless the view went away (aborted). */
export const warnUnlessAborted = (what) => (err) => {
  if (err?.name !== 'AbortError') console.warn(`${what}:`, err?.message ?? err);
};

/**
 * Today's events of `types` from the API, oldest first, handed to `onEvents` once; a failure is
 * logged and leaves the live stream to fill the view.
 */
export function loadEvents(ctx, types, { from, limit, signal, what }, onEvents) {
  Promise.all(types.map((type) => ctx.api.events({ type, from, limit }, signal)))
    .then((lists) => onEvents(lists.flat().sort((a, b) => a.ts - b.ts)))
    .catch(warnUnlessAborted(what));
}

/** The object a view returns: `update`, and a `destroy` that aborts its loads and stops its poller. */
export function viewOf(update, ctrl, poll) {
  return {
    update,
    destroy() {
      ctrl.abort();
      poll.stop();
    },
  };
}

/** Map `items` through async `fn` with at most `n` in flight. */
export async function mapLimit(items, n, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** A cell showing a time and, in its tooltip, how long ago it was. */
export function timeCell(ts, ctx) {
  return h('td', { class: 'time', title: formatAgo(ts, ctx.now(), ctx.lang) }, formatTime(ts, ctx.lang, ctx.tz, true));
}

/** Run `fn` at most once per `ms` (trailing call kept), for redraws driven by live updates. */
export function throttle(fn, ms) {
  let last = 0;
  let timer = null;
  const wrapped = () => {
    const now = Date.now();
    if (now - last >= ms) {
      last = now;
      fn();
    } else if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        last = Date.now();
        fn();
      }, ms - (now - last));
    }
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}
