// Pure derivations the views share: sums with their quality, event matching, groupings.
// No DOM and no fetch, so the unit tests run them on plain data (types in derive.d.ts).

/** A fixed-capacity buffer: the page never keeps more than `cap` of anything that streams. */
export class Ring {
  constructor(cap) {
    this.cap = cap;
    this.items = new Array(cap);
    this.start = 0;
    this.size = 0;
  }
  push(x) {
    const i = (this.start + this.size) % this.cap;
    this.items[i] = x;
    if (this.size < this.cap) this.size += 1;
    else this.start = (this.start + 1) % this.cap;
  }
  clear() {
    this.items = new Array(this.cap);
    this.start = 0;
    this.size = 0;
  }
  /** Oldest first. */
  toArray() {
    const out = new Array(this.size);
    for (let k = 0; k < this.size; k++) out[k] = this.items[(this.start + k) % this.cap];
    return out;
  }
  /** Newest first, at most `n`. */
  newest(n = this.size) {
    const m = Math.min(n, this.size);
    const out = new Array(m);
    for (let k = 0; k < m; k++) out[k] = this.items[(this.start + this.size - 1 - k) % this.cap];
    return out;
  }
}

const collator = new Intl.Collator('en', { numeric: true });
/** Device ids in human order: door-2 before door-10. One shared collator: sorting 1,000 ids stays cheap. */
export function compareIds(a, b) {
  return collator.compare(a, b);
}

const RANK = { good: 0, uncertain: 1, stale: 2, bad: 3 };

/** Worse of two qualities, treating a stale value as worse than an uncertain one. */
function worse(a, b) {
  return RANK[b] > RANK[a] ? b : a;
}

function level(rec) {
  if (rec.quality === 'bad') return 'bad';
  if (rec.reason === 'stale' || rec.reason === 'device_offline') return 'stale';
  return rec.quality === 'uncertain' ? 'uncertain' : 'good';
}

/**
 * Sum of numeric values with the quality of the whole: good only when every part is good;
 * a bad part is left out and makes the sum uncertain (bad when nothing is left).
 */
export function sumOf(records) {
  let value = 0;
  let n = 0;
  let worst = 'good';
  let ts = 0;
  for (const r of records) {
    const lv = level(r);
    worst = worse(worst, lv);
    if (lv === 'bad' || typeof r.value !== 'number') continue;
    value += r.value;
    n += 1;
    ts = Math.max(ts, r.ts ?? 0);
  }
  if (records.length === 0) return { value: null, quality: 'bad', reason: 'no_data', n: 0, ts: 0 };
  if (n === 0) return { value: null, quality: 'bad', reason: 'no_data', n: 0, ts: 0 };
  return toQuality(value, worst, n, ts);
}

function toQuality(value, worst, n, ts) {
  switch (worst) {
    case 'good':
      return { value, quality: 'good', n, ts };
    case 'uncertain':
      return { value, quality: 'uncertain', reason: 'partial', n, ts };
    case 'stale':
      return { value, quality: 'uncertain', reason: 'stale', n, ts };
    default:
      return { value, quality: 'uncertain', reason: 'partial', n, ts };
  }
}

/** Mean of numeric values with the same quality rules as sumOf. */
export function meanOf(records) {
  const s = sumOf(records);
  if (s.value === null) return s;
  return { ...s, value: s.value / s.n };
}

/** Combine two derived values arithmetically; the result is as bad as the worse input. */
export function combine(parts, fn) {
  if (parts.some((p) => p.value === null)) return { value: null, quality: 'bad', reason: 'no_data', n: 0, ts: 0 };
  const worst = parts.reduce((w, p) => worse(w, p.reason === 'stale' ? 'stale' : p.quality), 'good');
  const ts = Math.max(...parts.map((p) => p.ts ?? 0));
  const value = fn(...parts.map((p) => p.value));
  if (!Number.isFinite(value)) return { value: null, quality: 'bad', reason: 'no_data', n: 0, ts };
  return toQuality(value, worst, parts.length, ts);
}

/** Grid meters at the point of connection (tag role master/main/poc); all of them when none is tagged. */
export function mainMeters(devices) {
  const meters = devices.filter((d) => d.class === 'grid_meter');
  const tagged = meters.filter((d) => ['master', 'main', 'poc'].includes(d.tags?.role ?? ''));
  return tagged.length > 0 ? tagged : meters;
}

/**
 * The community's power balance now, from the latest records of each class (W):
 * load = PV + grid import − battery charging.
 */
export function energyBalance(latestOf, devices) {
  const byMetric = (cls, metric, ids) =>
    devices.filter((d) => d.class === cls && (!ids || ids.has(d.id))).map((d) => latestOf(d.id, metric)).filter(Boolean);
  const mains = new Set(mainMeters(devices).map((d) => d.id));
  const pv = sumOf(byMetric('pv_inverter', 'ac_power'));
  const battery = sumOf(byMetric('battery', 'power'));
  const grid = sumOf(byMetric('grid_meter', 'power', mains));
  const soc = meanOf(byMetric('battery', 'soc'));
  const hpElectric = sumOf(byMetric('heat_pump', 'electric_power'));
  const hpThermal = sumOf(byMetric('heat_pump', 'thermal_power'));
  const zero = { value: 0, quality: 'good', n: 0, ts: 0 };
  const load = combine([pv.n ? pv : zero, grid, battery.n ? battery : zero], (p, g, b) => p + g - b);
  const cop = hpElectric.value ? combine([hpThermal, hpElectric], (t, e) => (e > 0 ? t / e : NaN)) : { value: null, quality: 'bad', reason: 'no_data', n: 0, ts: 0 };
  return { pv, battery, grid, load, soc, hpElectric, hpThermal, cop };
}

/**
 * Pair start events with their end events by an attribute (request_id, parcel).
 * Returns completed pairs (newest end first) with their duration in seconds, and open starts.
 */
export function matchPairs(events, startType, endTypes, key) {
  const starts = new Map();
  const done = [];
  const sorted = [...events].sort((a, b) => a.ts - b.ts);
  for (const e of sorted) {
    const id = e.attributes?.[key];
    if (id === undefined) continue;
    if (e.type === startType) {
      starts.set(String(id), e);
    } else if (endTypes.includes(e.type)) {
      const s = starts.get(String(id));
      if (!s) continue;
      starts.delete(String(id));
      done.push({ id: String(id), device: e.device, start: s.ts, end: e.ts, type: e.type, seconds: (e.ts - s.ts) / 1000 });
    }
  }
  done.sort((a, b) => b.end - a.end);
  const open = [...starts.values()].map((s) => ({ id: String(s.attributes[key]), device: s.device, start: s.ts })).sort((a, b) => a.start - b.start);
  return { done, open };
}

/** Parcels in a compartment now: deposited and not yet picked up; `overdue` after `overdueMs`. */
export function parcelsWaiting(events, now, overdueMs = 48 * 3600_000) {
  const { open } = matchPairs(events, 'parcel_deposited', ['parcel_picked_up'], 'parcel');
  const overdue = open.filter((p) => now - p.start > overdueMs);
  return { waiting: open, overdue };
}

/** A parking space's zone: its zone/level/area tag, else its id without the last dash-separated part. */
export function zoneOf(device) {
  const t = device.tags ?? {};
  const tagged = t.zone ?? t.level ?? t.area ?? t.garage ?? t.building;
  if (tagged) return tagged;
  const i = device.id.lastIndexOf('-');
  return i > 0 ? device.id.slice(0, i) : device.id;
}

/** Occupancy of parking spaces by zone, from the latest `occupied` state of each space. */
export function occupancyByZone(spaces, latestOf) {
  const zones = new Map();
  for (const d of spaces) {
    const z = zoneOf(d);
    let row = zones.get(z);
    if (!row) zones.set(z, (row = { zone: z, total: 0, occupied: 0, unknown: 0, chargers: 0 }));
    row.total += 1;
    const occ = latestOf(d.id, 'occupied');
    if (!occ || occ.quality === 'bad' || typeof occ.value !== 'boolean') row.unknown += 1;
    else if (occ.value) row.occupied += 1;
    if (latestOf(d.id, 'has_charger')?.value === true) row.chargers += 1;
  }
  return [...zones.values()].sort((a, b) => compareIds(a.zone, b.zone));
}

/** A water meter's type (potable, reclaimed, rainwater, hot) from its tag. */
export function waterTypeOf(device) {
  return device.tags?.water_type ?? 'unknown';
}

/** Volume by water type and the share of reclaimed + rain water, from per-meter volumes (m³). */
export function waterByType(rows) {
  const byType = new Map();
  for (const r of rows) {
    if (r.role === 'master') continue; // a master meter re-counts its sub-meters
    if (typeof r.volume !== 'number' || !Number.isFinite(r.volume)) continue;
    byType.set(r.type, (byType.get(r.type) ?? 0) + r.volume);
  }
  let total = 0;
  for (const v of byType.values()) total += v;
  const alt = (byType.get('reclaimed') ?? 0) + (byType.get('rainwater') ?? 0);
  return { byType, total, altShare: total > 0 ? alt / total : null };
}

/** The text of a target's bound, e.g. "≤ 300" or "≥ 0.3" (values in the KPI's unit). */
export function boundOf(target) {
  if (!target) return undefined;
  if (target.max !== undefined && target.min !== undefined) return { op: '∈', min: target.min, max: target.max };
  if (target.max !== undefined) return { op: '≤', value: target.max };
  if (target.min !== undefined) return { op: '≥', value: target.min };
  return undefined;
}

/** Devices filtered by free text (id, class, connection, profile) and exact status / quality. */
export function filterDevices(devices, { text = '', cls = '', status = '', quality = '' } = {}) {
  const q = text.trim().toLowerCase();
  return devices.filter(
    (d) =>
      (!cls || d.class === cls) &&
      (!status || d.status === status) &&
      (!quality || d.quality === quality) &&
      (!q || [d.id, d.class, d.connection, d.profile].some((s) => String(s ?? '').toLowerCase().includes(q))),
  );
}

/**
 * What needs attention, from /api/health: links that are not connected, sinks that are not
 * sending, the store over its disk cap or having dropped unsent data. Empty when all is well.
 */
export function healthProblems(health) {
  if (!health) return [];
  const out = [];
  if (health.status === 'down') out.push({ kind: 'store_down' });
  for (const d of health.drivers ?? []) {
    if (d.state !== 'connected') out.push({ kind: 'link', id: d.connection, state: d.state, detail: d.error ?? '' });
  }
  for (const s of health.sinks ?? []) {
    if (s.state !== 'ok') out.push({ kind: 'sink', id: s.id, state: s.state, backlog: s.backlog ?? 0, detail: s.lastError ?? '' });
  }
  const store = health.store ?? {};
  if (store.over_cap) out.push({ kind: 'over_cap' });
  if (store.last_loss) out.push({ kind: 'loss', at: store.last_loss.at, samples: store.last_loss.samples, events: store.last_loss.events });
  return out;
}
