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

const hhmmFormats = new Map();
/** 24-hour clock labels for the time axis (uPlot's default is 12-hour, English). */
function hhmm(ts, lang, tz) {
  const key = `${lang}|${tz ?? ''}`;
  let f = hhmmFormats.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale(lang), { hour: '2-digit', minute: '2-digit', hour12: false, ...(tz ? { timeZone: tz } : {}) });
    hhmmFormats.set(key, f);
  }
  return f.format(new Date(ts));
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
        points: { show: false },
        value: sr.value,
      })),
    ],
    axes: [
      { stroke: AXIS, grid: { stroke: 'rgba(128,128,128,.15)' }, values: (u, splits) => splits.map((ts) => hhmm(ts, ctx.lang, tz)) },
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
