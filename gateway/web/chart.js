// uPlot (served by the gateway at /vendor/, loaded as a classic script before the app)
// wrapped to follow its container's width and to show times in the site's time zone.
import { formatTime, locale } from './format.js';

const AXIS = '#888';

export const COLORS = {
  pv: '#e0a000',
  load: '#2c6fbb',
  grid: '#c0392b',
  battery: '#7b52ab',
  soc: '#2e8b57',
  line: '#2c6fbb',
};

const axisFormats = new Map();
/** 24-hour clock labels for the time axis (uPlot's default is 12-hour, English); seconds when ticks are close. */
function clock(ts, lang, tz, seconds) {
  const key = `${lang}|${tz ?? ''}|${seconds}`;
  let f = axisFormats.get(key);
  if (!f) {
    const opts = { hour: '2-digit', minute: '2-digit', hour12: false, ...(seconds ? { second: '2-digit' } : {}), ...(tz ? { timeZone: tz } : {}) };
    f = new Intl.DateTimeFormat(locale(lang), opts);
    axisFormats.set(key, f);
  }
  return f.format(new Date(ts));
}

function timeLabels(splits, lang, tz) {
  const step = splits.length > 1 ? splits[1] - splits[0] : 60_000;
  return splits.map((ts) => clock(ts, lang, tz, step < 60_000));
}

/**
 * A time chart in `el`. `series`: [{label, stroke, scale?, fill?}]; `scales`: uPlot scales
 * beyond x; `axes`: [{scale, label, side?, values?}]. Returns {setData, destroy, plot}.
 */
export function timeChart(el, { series, scales = {}, axes = [], height = 220 }, ctx) {
  const uPlot = globalThis.uPlot;
  const width = Math.max(280, el.clientWidth || 600);
  const tz = ctx.tz;
  const opts = {
    width,
    height,
    ms: 1,
    tzDate: tz ? (ts) => uPlot.tzDate(new Date(ts), tz) : undefined,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true }, ...scales },
    series: [
      { label: ctx.t('common.time'), value: (u, ts) => (ts === null || ts === undefined ? '–' : formatTime(ts, ctx.lang, tz, true)) },
      ...series.map((sr) => ({
        label: sr.label,
        stroke: sr.stroke,
        fill: sr.fill,
        width: 1.5,
        scale: sr.scale ?? 'y',
        spanGaps: false,
        // Dots only where lines cannot carry the data: a handful of points in view.
        points: { show: (u, _si, i0, i1) => i1 - i0 < 40 },
        value: sr.value,
      })),
    ],
    axes: [
      { stroke: AXIS, grid: { stroke: 'rgba(128,128,128,.15)' }, values: (u, splits) => timeLabels(splits, ctx.lang, tz) },
      ...axes.map((a) => ({
        scale: a.scale,
        label: a.label,
        side: a.side ?? 3,
        size: 56,
        values: a.values,
        stroke: AXIS,
        grid: { show: (a.side ?? 3) === 3, stroke: 'rgba(128,128,128,.15)' },
      })),
    ],
  };
  if (!opts.tzDate) delete opts.tzDate;
  const empty = [[], ...series.map(() => [])];
  const plot = new uPlot(opts, empty, el);
  // Follow the container, not the window: cards reflow on phones and 1366-px screens alike.
  const ro = new window.ResizeObserver(() => {
    const w = Math.max(280, el.clientWidth);
    if (w !== plot.width) plot.setSize({ width: w, height });
  });
  ro.observe(el);
  return {
    plot,
    setData(data) {
      plot.setData(data);
    },
    destroy() {
      ro.disconnect();
      plot.destroy();
    },
  };
}
