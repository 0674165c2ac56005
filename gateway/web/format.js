// Pure formatting of values, units, durations, times and quality. No DOM, no globals:
// the unit tests import this file directly (types in format.d.ts).

const LOCALES = { zh: 'zh-CN', en: 'en-GB' };

/** BCP-47 locale of a dashboard language. */
export function locale(lang) {
  return LOCALES[lang] ?? LOCALES.en;
}

// Intl formatters are costly to build; a handful of (lang, digits) pairs is all the page uses.
const numberFormats = new Map();
function numberFormat(lang, digits) {
  const key = `${lang}|${digits}`;
  let f = numberFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale(lang), { maximumFractionDigits: digits, minimumFractionDigits: digits });
    numberFormats.set(key, f);
  }
  return f;
}

/** Fraction digits that keep three significant figures without noise (1234 → 0, 12.3 → 1, 1.23 → 2). */
export function digitsFor(value) {
  const a = Math.abs(value);
  if (a === 0 || a >= 100) return 0;
  if (a >= 10) return 1;
  return 2;
}

export function formatNumber(value, lang, digits) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return '–';
  const d = digits ?? (Number.isInteger(value) ? 0 : digitsFor(value));
  const s = numberFormat(lang, d).format(value);
  return s === '-0' ? '0' : s;
}

// Units that read better scaled (W → kW → MW). Others are shown as they are.
const SCALED = {
  W: [[1e6, 'MW'], [1e3, 'kW'], [1, 'W']],
  Wh: [[1e9, 'GWh'], [1e6, 'MWh'], [1e3, 'kWh'], [1, 'Wh']],
  kgCO2: [[1e3, 't CO₂'], [1, 'kg CO₂']],
};

/** Scale a value into a readable unit: 12 500 W → 12.5 kW. */
export function scaleUnit(value, unit, lang = 'en') {
  const steps = SCALED[unit];
  if (!steps || typeof value !== 'number' || !Number.isFinite(value)) return { value, unit: displayUnit(unit, lang) };
  const a = Math.abs(value);
  for (const [factor, name] of steps) {
    if (a >= factor) return { value: value / factor, unit: name };
  }
  const last = steps[steps.length - 1];
  return { value: value / last[0], unit: last[1] };
}

/** How a catalog or KPI unit is written on screen ('' when a number needs no unit). */
export function displayUnit(unit, lang = 'en') {
  switch (unit) {
    case 'count':
    case 'bool':
    case 'enum':
    case 'ratio':
    case 'factor':
    case undefined:
    case null:
      return '';
    case 'kgCO2':
      return 'kg CO₂';
    case 'kgCO2/kWh':
      return 'kg CO₂/kWh';
    case 'L/person/day':
      return lang === 'zh' ? 'L/人·天' : 'L/person/day';
    case 'entries/space/day':
      return lang === 'zh' ? '次/车位·天' : '/space/day';
    default:
      return unit;
  }
}

/**
 * Format a sample or KPI value with its unit. `t` translates enum and boolean labels
 * (`enum.<value>`, `bool.true`). Returns parts so the page can style the unit.
 */
export function formatValue(value, unit, lang, t = (k) => k) {
  if (value === null || value === undefined) return { text: '–', unit: '' };
  if (typeof value === 'boolean') return { text: t(value ? 'bool.true' : 'bool.false'), unit: '' };
  if (typeof value === 'string') {
    const key = `enum.${value}`;
    const label = t(key);
    return { text: label === key ? value : label, unit: '' };
  }
  if (unit === 'factor') return { text: formatNumber(value, lang, 2), unit: '' };
  if (unit === 'ratio') return { text: formatNumber(value * 100, lang, Math.abs(value) >= 0.1 ? 1 : 2), unit: '%' };
  if (unit === 's') return { text: formatDuration(value, lang), unit: '' };
  if (unit === '%') return { text: formatNumber(value, lang, 1), unit: '%' };
  if (unit === '°C') return { text: formatNumber(value, lang, 1), unit: '°C' };
  const scaled = scaleUnit(value, unit, lang);
  return { text: formatNumber(scaled.value, lang), unit: scaled.unit };
}

/**
 * The unit a KPI is shown in. Performance factors (SPF) are ratios of energies but read as
 * plain numbers (3.2), never as percentages.
 */
export function kpiUnit(kpi, unit) {
  return kpi === 'heat_pump_spf' ? 'factor' : unit;
}

/** A value and unit as one string, e.g. "12.5 kW". */
export function formatWithUnit(value, unit, lang, t) {
  const p = formatValue(value, unit, lang, t);
  return p.unit ? `${p.text} ${p.unit}` : p.text;
}

const DURATION_UNITS = {
  en: { d: ' d', h: ' h', m: ' min', s: ' s', sep: ' ' },
  zh: { d: '天', h: '小时', m: '分', s: '秒', sep: '' },
};

/** Seconds as the two largest units: 272 → "4 min 32 s" / "4分32秒"; 3.2 → "3.2 s". */
export function formatDuration(seconds, lang) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return '–';
  const u = DURATION_UNITS[lang] ?? DURATION_UNITS.en;
  const sign = seconds < 0 ? '-' : '';
  const s = Math.abs(seconds);
  if (s < 10) return `${sign}${formatNumber(s, lang, s < 1 ? 2 : 1)}${u.s}`;
  const total = Math.round(s);
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const m = Math.floor((total % 3600) / 60);
  const sec = total % 60;
  const parts = d > 0 ? [[d, u.d], [h, u.h]] : h > 0 ? [[h, u.h], [m, u.m]] : m > 0 ? [[m, u.m], [sec, u.s]] : [[sec, u.s]];
  return sign + parts.filter(([n], i) => i === 0 || n > 0).map(([n, name]) => `${n}${name}`).join(u.sep);
}

/** "12 s ago" / "12秒前" for the time since `ts` at `now`. */
export function formatAgo(ts, now, lang) {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return '–';
  const s = Math.max(0, (now - ts) / 1000);
  if (s < 1) return lang === 'zh' ? '刚刚' : 'just now';
  const u = DURATION_UNITS[lang] ?? DURATION_UNITS.en;
  const d = s < 10 ? `${Math.floor(s)}${u.s}` : formatDuration(s, lang);
  return lang === 'zh' ? `${d}前` : `${d} ago`;
}

const timeFormats = new Map();
function timeFormat(lang, tz, withDate) {
  const key = `${lang}|${tz ?? ''}|${withDate}`;
  let f = timeFormats.get(key);
  if (!f) {
    const opts = { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false };
    if (withDate) Object.assign(opts, { month: '2-digit', day: '2-digit' });
    if (tz) opts.timeZone = tz;
    f = new Intl.DateTimeFormat(locale(lang), opts);
    timeFormats.set(key, f);
  }
  return f;
}

/** Clock time in the site's time zone; with the date when `withDate`. */
export function formatTime(ts, lang, tz, withDate = false) {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return '–';
  return timeFormat(lang, tz, withDate).format(new Date(ts));
}

const partFormats = new Map();
/** Milliseconds by which local wall time in `tz` is ahead of UTC at `ts`. */
export function tzOffset(ts, tz) {
  let f = partFormats.get(tz ?? '');
  if (!f) {
    const opts = { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric', hourCycle: 'h23' };
    if (tz) opts.timeZone = tz;
    f = new Intl.DateTimeFormat('en-US', opts);
    partFormats.set(tz ?? '', f);
  }
  const p = {};
  for (const { type, value } of f.formatToParts(new Date(ts))) p[type] = Number(value);
  const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return wall - Math.floor(ts / 1000) * 1000;
}

/** Start of the local day (midnight in `tz`) that contains `ts`. */
export function startOfDay(ts, tz) {
  const off = tzOffset(ts, tz);
  const local = ts + off;
  const midnightLocal = local - (((local % 86_400_000) + 86_400_000) % 86_400_000);
  // A zone whose offset changed since midnight (DST) needs the offset at midnight itself.
  return midnightLocal - tzOffset(midnightLocal - off, tz);
}

/** CSS class for a value's quality; a stale value looks different from a merely uncertain one. */
export function qualityClass(quality, reason) {
  if (quality === 'bad') return 'q-bad';
  if (reason === 'stale' || reason === 'device_offline') return 'q-stale';
  if (quality === 'uncertain') return 'q-uncertain';
  if (quality === 'good') return 'q-good';
  return 'q-unknown';
}

/** Nearest-rank percentile (p in 0–100) of a list of numbers; undefined when empty. */
export function percentile(values, p) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * v.length);
  return v[Math.min(v.length - 1, Math.max(0, rank - 1))];
}
