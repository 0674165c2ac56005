import { EARLIEST_TS } from '../../gateway/model/commissioned.js';
import type { EventAttributeDef, MetricDef } from '../../gateway/model/catalog.js';
import type { SampleValue } from '../../gateway/model/types.js';
import type { Problem } from './envelope.js';
import { matchText } from './json-path.js';
import type { TimestampSpec } from './profile-schema.js';

/** Value and timestamp conversions shared by the profile decoder. Pure. */

export type Converted<T> = { ok: true; value: T } | { ok: false; problem: Problem };

const bad = (reason: string, detail: string): { ok: false; problem: Problem } => ({ ok: false, problem: { reason, detail } });

export interface ValueRule {
  map?: Record<string, string | number | boolean> | undefined;
  scale?: number | undefined;
  offset?: number | undefined;
  numeric_string?: boolean | undefined;
}

function mapped(raw: unknown, map: ValueRule['map']): { hit: boolean; value: unknown } {
  if (!map) return { hit: false, value: raw };
  const key = matchText(raw);
  return Object.hasOwn(map, key) ? { hit: true, value: map[key] } : { hit: false, value: raw };
}

/** A raw JSON value → a value of the catalog metric `def` (in the profile's native unit). */
export function toMetricValue(raw: unknown, rule: ValueRule, def: MetricDef, what: string): Converted<SampleValue> {
  const m = mapped(raw, rule.map);
  const v = m.value;
  switch (def.unit) {
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      return bad(rule.map && !m.hit ? 'unknown_value' : 'wrong_type', `${what}: expected a boolean, got ${typeof v}`);
    case 'enum':
      if (typeof v === 'string' && def.values?.includes(v)) return { ok: true, value: v };
      if (typeof v === 'string' || typeof v === 'number') return bad('unknown_value', `${what}: not one of ${def.values?.join(', ')}`);
      return bad('wrong_type', `${what}: expected an enum string, got ${typeof v}`);
    default: {
      let n: number | undefined;
      if (typeof v === 'number') n = v;
      else if (rule.numeric_string && typeof v === 'string' && v.trim() !== '') n = Number(v);
      if (n === undefined || !Number.isFinite(n)) return bad('wrong_type', `${what}: expected a number, got ${typeof v}`);
      if (rule.scale !== undefined) n *= rule.scale;
      if (rule.offset !== undefined) n += rule.offset;
      // Round away binary noise from the scale (0.1 × 3 = 0.30000000000000004).
      if (rule.scale !== undefined || rule.offset !== undefined) n = Number(n.toPrecision(15));
      // Near 1.8e308 a scale, an offset or that rounding overflows to Infinity: not a reading.
      if (!Number.isFinite(n)) return bad('out_of_range', `${what}: the value scaled is not a finite number`);
      return { ok: true, value: n };
    }
  }
}

/** A raw JSON value → an event attribute of the catalog type. */
export function toAttribute(raw: unknown, def: EventAttributeDef, map: ValueRule['map'], what: string): Converted<string | number | boolean> {
  const v = mapped(raw, map).value;
  switch (def.type) {
    case 'string':
      if (typeof v === 'string' && v !== '') return { ok: true, value: v };
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: String(v) };
      return bad('wrong_type', `${what}: expected a string`);
    case 'number':
      if (typeof v === 'number' && Number.isFinite(v)) return { ok: true, value: v };
      return bad('wrong_type', `${what}: expected a number`);
    case 'bool':
      if (typeof v === 'boolean') return { ok: true, value: v };
      if (v === 0 || v === 1) return { ok: true, value: v === 1 };
      return bad('wrong_type', `${what}: expected a boolean`);
  }
}

// Plausible device time: 2000-01-01 … 2100-01-01. Outside it a "timestamp" is garbage, not data.
const MAX_TS = 4_102_444_800_000;

export function toTimestamp(raw: unknown, format: TimestampSpec['format'], what: string): Converted<number> {
  let ms: number | undefined;
  if (typeof raw === 'number' && Number.isFinite(raw)) {
    if (format === 'epoch_s' || (format === 'auto' && Math.abs(raw) < 1e11)) ms = raw * 1000;
    else if (format !== 'iso') ms = raw;
  } else if (typeof raw === 'string' && format !== 'epoch_ms' && format !== 'epoch_s') {
    const t = Date.parse(raw);
    if (!Number.isNaN(t)) ms = t;
  }
  if (ms === undefined) return bad('bad_timestamp', `${what}: not a ${format === 'auto' ? 'timestamp' : format} value`);
  ms = Math.round(ms);
  if (ms < EARLIEST_TS || ms > MAX_TS) return bad('bad_timestamp', `${what}: ${ms} ms is not a plausible time (2000–2100)`);
  return { ok: true, value: ms };
}
