import type { Reading } from '../../gateway/model/types.js';
import { CodecError, decodeWords, type RawValue } from './codecs.js';
import type { DerivedPoint, ModbusFunction } from './profile-schema.js';
import type { BlockCondition, Point } from './points.js';

/**
 * Register image → readings, by profile. Pure: the same words always give the same readings,
 * which is what the golden cases and the simulators' round trip rely on.
 */

/** The last words read from a device, per function code, with the time each arrived. */
export class RegisterImage {
  private readonly words = new Map<ModbusFunction, Map<number, number>>();
  private readonly times = new Map<ModbusFunction, Map<number, number>>();

  set(fn: ModbusFunction, address: number, values: readonly number[], ts: number): void {
    let w = this.words.get(fn);
    let t = this.times.get(fn);
    if (!w || !t) {
      w = new Map();
      t = new Map();
      this.words.set(fn, w);
      this.times.set(fn, t);
    }
    for (let i = 0; i < values.length; i++) {
      w.set(address + i, (values[i] ?? 0) & 0xffff);
      t.set(address + i, ts);
    }
  }

  /** Words [address, address+count) or undefined if any is missing. */
  get(fn: ModbusFunction, address: number, count: number): number[] | undefined {
    const w = this.words.get(fn);
    if (!w) return undefined;
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const x = w.get(address + i);
      if (x === undefined) return undefined;
      out[i] = x;
    }
    return out;
  }

  time(fn: ModbusFunction, address: number): number | undefined {
    return this.times.get(fn)?.get(address);
  }

  clear(): void {
    this.words.clear();
    this.times.clear();
  }
}

export interface DecodeOptions {
  device: string;
  /** Device option `invert: true` (a meter mounted with the opposite sign). */
  invert?: boolean;
  /** Device options (derived formulas read their parameters here). */
  options?: Readonly<Record<string, string | number | boolean>>;
  /** Decode only points whose first register arrived at or after this time (this poll's reads). */
  since?: number;
}

type Value = number | bigint | string | boolean;
/** `uncertain`: the value is usable but not exact (a 64-bit counter beyond 2^53 that had to be scaled). */
type Outcome = { value: Value; ts: number; uncertain?: string } | { bad: string; ts: number };

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Decode one point from the image (undefined: its registers were not read). */
export function decodePoint(p: Point, image: RegisterImage): Outcome | undefined {
  const ts = image.time(p.fn, p.address);
  const words = image.get(p.fn, p.address, p.words);
  if (ts === undefined || !words) return undefined;
  let raw: RawValue | null;
  try {
    const res = decodeWords(p.type, words, { order: p.order, ...(p.length !== undefined ? { length: p.length } : {}), sentinel: p.sentinel });
    if (res.notImplemented) return { bad: 'not_implemented', ts };
    raw = res.value;
  } catch (err) {
    // A wrong word count is a profile/driver bug, reported as a bad value rather than a crash.
    return { bad: err instanceof CodecError ? 'decode_error' : 'decode_failed', ts };
  }
  if (raw === null) return { bad: 'not_implemented', ts };
  if ((typeof raw === 'number' || typeof raw === 'bigint') && p.notImplemented.some((x) => BigInt(x) === BigInt(raw as number | bigint))) {
    return { bad: 'not_implemented', ts };
  }
  if (p.bit !== undefined) return { value: ((BigInt(raw as number) >> BigInt(p.bit)) & 1n) === 1n, ts };
  if (p.map) {
    const v = p.map[String(raw)];
    return v === undefined ? { bad: 'decode_error', ts } : { value: v, ts };
  }
  if (typeof raw === 'string' || typeof raw === 'boolean') return { value: raw, ts };
  let sf = 0;
  if (p.sf) {
    const w = image.get(p.sf.fn, p.sf.address, 1);
    if (!w) return undefined;
    const s = decodeWords('sunssf', w);
    if (s.notImplemented || typeof s.value !== 'number' || s.value < -10 || s.value > 10) return { bad: 'not_implemented', ts };
    sf = s.value;
  }
  let v: number | bigint;
  if (typeof raw === 'bigint' && p.scale === 1 && sf === 0 && p.add === 0) v = raw;
  else v = Number(raw) * p.scale * 10 ** sf + p.add;
  // 10^-n multiplications leave binary noise (0.1 * 3 = 0.30000000000000004); round it off.
  if (typeof v === 'number' && !Number.isInteger(v)) v = Number(v.toPrecision(15));
  // A negative scale (a meter counting the other way round) turns 0 into -0: a zero is a zero.
  if (v === 0) v = 0;
  // A float register holding NaN or ±Infinity (or a scale that overflows) is no measurement.
  if (typeof v === 'number' && !Number.isFinite(v)) return { bad: 'decode_error', ts };
  if (p.below !== undefined) return { value: Number(v) < p.below, ts };
  // A scaled 64-bit value beyond 2^53 cannot be exact as a double: say so, never round silently.
  if (typeof raw === 'bigint' && typeof v === 'number' && (raw > MAX_SAFE || raw < -MAX_SAFE)) return { value: v, ts, uncertain: 'precision_loss' };
  return { value: v, ts };
}

/** Decode a device's points into readings (aggregates combined, invert applied, derived values added). */
export function decodeDevice(points: readonly Point[], derived: readonly DerivedPoint[], image: RegisterImage, o: DecodeOptions): Reading[] {
  const out: Reading[] = [];
  const groups = new Map<string, { p: Point; values: number[]; ts: number; bad?: string }>();
  const numeric = new Map<string, { v: number; ts: number }>();
  for (const p of points) {
    if (p.cond && !passes(p.cond, image)) continue;
    const r = decodePoint(p, image);
    if (!r) continue;
    if (o.since !== undefined && r.ts < o.since) continue;
    if (p.aggregate) {
      const g = groups.get(p.metric) ?? { p, values: [], ts: r.ts };
      if ('bad' in r) g.bad ??= r.bad;
      else g.values.push(Number(r.value));
      g.ts = Math.max(g.ts, r.ts);
      groups.set(p.metric, g);
      continue;
    }
    out.push(toReading(p, r, o));
  }
  for (const [metric, g] of groups) {
    const vs = g.values;
    // A not-implemented module does not make the total bad while others report.
    if (vs.length === 0) {
      out.push(toReading(g.p, { bad: g.bad ?? 'not_implemented', ts: g.ts }, o));
      continue;
    }
    const how = g.p.aggregate;
    const v = how === 'sum' ? vs.reduce((a, b) => a + b, 0) : how === 'avg' ? vs.reduce((a, b) => a + b, 0) / vs.length : how === 'max' ? Math.max(...vs) : Math.min(...vs);
    out.push(toReading({ ...g.p, metric }, { value: Number(v.toPrecision(15)), ts: g.ts }, o));
  }
  for (const r of out) if (typeof r.value === 'number' && r.quality === undefined) numeric.set(r.metric, { v: r.value, ts: r.ts });
  for (const d of derived) {
    const r = derive(d, numeric, o);
    if (r) out.push(r);
  }
  return out;
}

/**
 * A repeating block's condition (714 port type, 160 module IDStr). Unread registers fail a
 * port-type test (the type is unknown) and pass a prefix exclusion (a module is PV unless it says otherwise).
 */
function passes(c: BlockCondition, image: RegisterImage): boolean {
  const w = image.get('holding', c.address, c.words);
  if (!w) return c.kind === 'not_prefix';
  if (c.kind === 'in') return c.values.includes(w[0] ?? -1);
  const text = decodeWords('string', w, { length: c.words, sentinel: false }).value;
  return !c.prefixes.some((x) => String(text).startsWith(x));
}

function toReading(p: Point, r: Outcome, o: DecodeOptions): Reading {
  let metric = p.metric;
  let value: Value | null = 'bad' in r ? null : r.value;
  if (o.invert && p.onInvert) {
    if (p.onInvert === 'negate') {
      if (typeof value === 'number') value = value === 0 ? 0 : -value;
      else if (typeof value === 'bigint') value = -value;
    } else metric = p.onInvert;
  }
  const reading: Reading = { device: o.device, metric, value, ts: r.ts };
  if (p.unit !== undefined && !p.map && p.bit === undefined && p.below === undefined) reading.unit = p.unit;
  if ('bad' in r) {
    reading.quality = 'bad';
    reading.reason = r.bad;
  } else if (r.uncertain) {
    reading.quality = 'uncertain';
    reading.reason = r.uncertain;
  }
  return reading;
}

/** tank_energy: 1.163 kWh/(m³·K) × volume × (mean of inputs − reference), in Wh. */
function derive(d: DerivedPoint, values: ReadonlyMap<string, { v: number; ts: number }>, o: DecodeOptions): Reading | undefined {
  const ins: { v: number; ts: number }[] = [];
  for (const m of d.inputs) {
    const x = values.get(m);
    if (!x) return undefined;
    ins.push(x);
  }
  const param = (name: string, def: number): number => {
    const v = o.options?.[name];
    return typeof v === 'number' ? v : (d.params[name] ?? def);
  };
  const mean = ins.reduce((a, b) => a + b.v, 0) / ins.length;
  const wh = 1163 * param('volume_m3', 1) * (mean - param('reference_c', 20));
  const reading: Reading = { device: o.device, metric: d.metric, value: Math.round(Math.max(0, wh)), ts: Math.max(...ins.map((x) => x.ts)) };
  if (d.unit) reading.unit = d.unit;
  // A non-numeric or infinite parameter in the device options: say so instead of storing NaN.
  if (!Number.isFinite(reading.value)) Object.assign(reading, { value: null, quality: 'bad', reason: 'decode_error' });
  return reading;
}
