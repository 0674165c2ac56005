import { EARLIEST_TS, MAX_AHEAD_MS } from '../model/commissioned.js';
import { CATALOG, metricDef, type MetricDef } from '../model/catalog.js';
import { PairMap } from '../model/pair-map.js';
import { convert } from '../model/units.js';
import type { EventAttributes, EventReading, GatewayEvent, Reading, Rejection, Sample, SampleValue } from '../model/types.js';
import type { CounterFacts, CounterHistory, CounterState } from './counters.js';
import type { Plausibility } from './plausibility.js';
import type { Pseudonymiser } from './pseudonymise.js';

/**
 * Pure normalisation: driver readings (native units, raw personal data) → canonical samples and
 * events (catalog units, quality, pseudonyms). No I/O; the state it needs is passed in.
 */
export interface NormaliseDeps {
  site: string;
  /** Class of a known device, undefined for an unknown one. */
  deviceClass(device: string): string | undefined;
  counters: CounterState;
  dedupe: Dedupe;
  pseudo: Pseudonymiser;
  /** Readings stamped further than this into the future are rejected (device clock wrong). */
  now(): number;
  /** What the resolved site knows about a counter series: declared maximum, scale, register range (gateway/site). */
  counterFacts?(device: string, metric: string): CounterFacts | undefined;
  /** A declared maximum alone (catalog units), for callers without a site. */
  rolloverAt?(device: string, metric: string): number | undefined;
  /** Nameplate facts and physical bounds: a value beyond them is `implausible` (plausibility.ts). */
  plausibility?: Plausibility;
  /** Stored readings a late counter reading is judged against (the store's history). */
  history?: CounterHistory;
  /** When a device went into service (`options.commissioned`): anything stamped earlier is `bad_timestamp`. */
  commissioned?(device: string): number | undefined;
}

export interface NormaliseResult {
  samples: Sample[];
  events: GatewayEvent[];
  rejections: Rejection[];
  duplicates: number;
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Attribute names that are personal data even when a profile passes them outside the catalog. */
const PERSONAL = /plate|licen[cs]e|card|uid|face|phone|mobile|tracking|waybill|credential|vehicle|parcel|id_?number|person|name/i;

export function normalise(
  batch: { readings?: readonly Reading[]; events?: readonly EventReading[] },
  deps: NormaliseDeps,
): NormaliseResult {
  const out: NormaliseResult = { samples: [], events: [], rejections: [], duplicates: 0 };
  const now = deps.now();
  for (const r of batch.readings ?? []) {
    const cls = deps.deviceClass(r.device);
    if (!cls) {
      out.rejections.push({ device: r.device, reason: 'unknown_device', detail: `no device "${r.device}"` });
      continue;
    }
    if (deps.plausibility?.learn(r)) continue;
    const def = metricDef(cls, r.metric);
    if (!def) {
      out.rejections.push({ device: r.device, reason: 'unknown_metric', detail: `${cls} has no metric "${r.metric}"` });
      continue;
    }
    if (!validTs(r.ts, now, deps.commissioned?.(r.device))) {
      out.rejections.push({ device: r.device, reason: 'bad_timestamp', detail: `${r.metric}: timestamp ${tsText(r.ts)} ${tsWhy(r.ts, now)}` });
      continue;
    }
    const s = toSample(r, cls, def, deps);
    if (deps.dedupe.isDuplicate(s)) {
      out.duplicates++;
      continue;
    }
    out.samples.push(s);
  }
  for (const e of batch.events ?? []) {
    const cls = deps.deviceClass(e.device);
    if (!cls) {
      out.rejections.push({ device: e.device, reason: 'unknown_device', detail: `no device "${e.device}"` });
      continue;
    }
    const def = CATALOG[cls]?.events[e.type];
    if (!def) {
      out.rejections.push({ device: e.device, reason: 'unknown_event', detail: `${cls} has no event "${e.type}"` });
      continue;
    }
    if (!validTs(e.ts, now, deps.commissioned?.(e.device))) {
      out.rejections.push({ device: e.device, reason: 'bad_timestamp', detail: `${e.type}: timestamp ${tsText(e.ts)} ${tsWhy(e.ts, now)}` });
      continue;
    }
    const missing = Object.entries(def.attributes).find(([k, a]) => !a.optional && e.attributes[k] === undefined);
    if (missing) {
      out.rejections.push({ device: e.device, reason: 'missing_attribute', detail: `${e.type} needs "${missing[0]}"` });
      continue;
    }
    const attributes: EventAttributes = {};
    for (const [k, v] of Object.entries(e.attributes)) {
      const personal = def.attributes[k]?.pii ?? (def.attributes[k] === undefined && PERSONAL.test(k));
      attributes[k] = personal ? deps.pseudo.pseudonym(v) : v;
    }
    out.events.push({ site: deps.site, device: e.device, class: cls, type: e.type, ts: Math.round(e.ts), attributes });
  }
  return out;
}

/** Late is fine (late data is data); a time far ahead, or before the device existed, is a wrong clock. */
function validTs(ts: number, now: number, commissioned: number | undefined): boolean {
  return Number.isFinite(ts) && ts >= EARLIEST_TS && ts >= (commissioned ?? EARLIEST_TS) && ts <= now + MAX_AHEAD_MS;
}

const tsText = (ts: number): string => (Number.isFinite(ts) && Math.abs(ts) < 8.64e15 ? new Date(ts).toISOString() : String(ts));
const tsWhy = (ts: number, now: number): string => (ts > now + MAX_AHEAD_MS ? 'is more than a day ahead of the gateway' : 'is before the device was commissioned (or before 2000)');

function toSample(r: Reading, cls: string, def: MetricDef, deps: NormaliseDeps): Sample {
  const s: Sample = {
    site: deps.site,
    device: r.device,
    class: cls,
    metric: r.metric,
    ts: Math.round(r.ts),
    value: null,
    quality: r.quality ?? 'good',
  };
  if (r.reason !== undefined) s.reason = r.reason;
  const bad = (reason: string): Sample => ({ ...s, value: null, quality: 'bad', reason });

  if (r.value === null) return s.quality === 'bad' ? s : bad(r.reason ?? 'decode_error');
  if (s.quality === 'bad') return { ...s, value: null };

  switch (def.unit) {
    case 'bool': {
      const b = toBool(r.value);
      return b === undefined ? bad('decode_error') : { ...s, value: b };
    }
    case 'enum': {
      const v = String(r.value).toLowerCase();
      return def.values?.includes(v) ? { ...s, value: v } : { ...bad('out_of_range'), value: null };
    }
    default: {
      let n: number;
      if (typeof r.value === 'bigint') {
        n = Number(r.value);
        if (r.value > MAX_SAFE || r.value < -MAX_SAFE) {
          s.quality = worst(s.quality, 'uncertain');
          s.reason = 'precision_loss';
        }
      } else if (typeof r.value === 'number') n = r.value;
      else if (typeof r.value === 'string' && r.value.trim() !== '' && Number.isFinite(Number(r.value))) n = Number(r.value);
      else return bad('decode_error');
      if (!Number.isFinite(n)) return bad('decode_error');
      const converted = convert(n, r.unit ?? def.unit, def.unit);
      if (converted === undefined) return bad('unit_mismatch');
      s.value = converted;
      if ((def.min !== undefined && converted < def.min) || (def.max !== undefined && converted > def.max)) {
        return { ...s, quality: 'bad', reason: 'out_of_range' };
      }
      const implausible = deps.plausibility?.judge(r.device, r.metric, def, s.ts, converted);
      if (implausible) return { ...s, quality: worst(s.quality, implausible.quality), reason: implausible.reason };
      if (def.kind === 'counter') {
        const facts = deps.counterFacts?.(r.device, r.metric) ?? { max: deps.rolloverAt?.(r.device, r.metric) };
        // Wrap inference looks at the value as the device reported it (before unit conversion).
        const history = deps.history;
        const before = history ? () => history.before(r.device, r.metric, s.ts) : undefined;
        const verdict = deps.counters.check(r.device, r.metric, s.ts, converted, facts, n, before);
        if (verdict !== 'ok') {
          s.quality = worst(s.quality, 'uncertain');
          s.reason = verdict;
        }
      }
      return s;
    }
  }
}

function toBool(v: SampleValue | bigint): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return v === 0 || v === 0n ? false : v === 1 || v === 1n ? true : undefined;
  const s = v.trim().toLowerCase();
  if (['true', 'on', 'yes', '1', 'open', 'occupied'].includes(s)) return true;
  if (['false', 'off', 'no', '0', 'closed', 'free'].includes(s)) return false;
  return undefined;
}

function worst(a: Sample['quality'], b: Sample['quality']): Sample['quality'] {
  const rank = { good: 0, uncertain: 1, bad: 2 } as const;
  return rank[a] >= rank[b] ? a : b;
}

/** Drops a sample identical to the last one seen for its series at the same timestamp. Bounded. */
export class Dedupe {
  private readonly last: PairMap<{ ts: number; value: SampleValue | null; quality: string }>;
  constructor(maxSeries = 200_000) {
    this.last = new PairMap(maxSeries);
  }

  isDuplicate(s: Sample): boolean {
    const prev = this.last.get(s.device, s.metric);
    if (prev && prev.ts === s.ts && prev.value === s.value && prev.quality === s.quality) return true;
    if (!prev) this.last.set(s.device, s.metric, { ts: s.ts, value: s.value, quality: s.quality });
    else if (s.ts >= prev.ts) {
      // In place: one object per series, not one per sample.
      prev.ts = s.ts;
      prev.value = s.value;
      prev.quality = s.quality;
    }
    return false;
  }
}
