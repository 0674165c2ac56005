// uPlot (served by the gateway at /vendor/, loaded as a classic script before the app)
// wrapped to follow its container's width and to show times in the site's time zone.

const AXIS = '#888';

export const COLORS = {
  pv: '#e0a000',
  load: '#2c6fbb',
  grid: '#c0392b',
  battery: '#7b52ab',
  soc: '#2e8b57',
  line: '#2c6fbb',
};

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
      {},
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
      { stroke: AXIS, grid: { stroke: 'rgba(128,128,128,.15)' } },
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
  const ro = new ResizeObserver(() => {
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
