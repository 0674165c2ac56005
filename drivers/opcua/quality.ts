import type { Quality, Reading, SampleValue } from '../../gateway/model/types.js';

/**
 * OPC UA data values → readings, pure. A StatusCode's two top bits are its severity (OPC 10000-4
 * 7.39): 00 Good, 01 Uncertain, 10 Bad (11 is reserved and treated as Bad). The status name (e.g.
 * `BadSensorFailure`, `UncertainLastUsableValue`) is the reason, so what the server said survives
 * into the sample. A Bad value is never a number: whatever the server sent with it is dropped.
 */

/** The parts of a node-opcua DataValue this module reads (so tests need no node-opcua). */
export interface DataValueLike {
  value?: { dataType: number; value: unknown } | null;
  statusCode?: { value: number; name: string } | null;
  sourceTimestamp?: Date | null;
  serverTimestamp?: Date | null;
}

/** How one node becomes one metric (from the profile, with the unit the server declared). */
export interface NodeMapping {
  metric: string;
  unit?: string;
  scale?: number;
  offset?: number;
  map?: Record<string, string | number | boolean>;
}

/** OPC UA built-in DataType ids this module distinguishes. */
export const DT = { Boolean: 1, Int64: 8, UInt64: 9, Float: 10, Double: 11, String: 12, DateTime: 13, LocalizedText: 21 } as const;

export function severity(code: number): Quality {
  const top = (code >>> 30) & 0b11;
  return top === 0 ? 'good' : top === 1 ? 'uncertain' : 'bad';
}

/** The time a value is stamped with: the source's, else the server's, else when it arrived. */
export function timestampOf(dv: DataValueLike, receivedAt: number): number {
  for (const d of [dv.sourceTimestamp, dv.serverTimestamp]) {
    // node-opcua gives null or the OPC UA minimum date (1601) for "no timestamp".
    const t = d?.getTime();
    if (t !== undefined && Number.isFinite(t) && t > 0) return t;
  }
  return receivedAt;
}

/** A variant's value as a plain value: Int64 as bigint, LocalizedText as its text, arrays refused. */
export function plainValue(v: { dataType: number; value: unknown } | null | undefined): SampleValue | bigint | undefined {
  if (!v) return undefined;
  const x = v.value;
  if ((v.dataType === DT.Int64 || v.dataType === DT.UInt64) && Array.isArray(x) && x.length === 2) {
    // node-opcua carries 64-bit integers as [high, low] 32-bit words.
    const [hi, lo] = x as [number, number];
    const u = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    return v.dataType === DT.Int64 ? BigInt.asIntN(64, u) : u;
  }
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'string' || typeof x === 'bigint') return x;
  if (x instanceof Date) return x.getTime();
  if (x && typeof x === 'object' && 'text' in x && typeof (x as { text: unknown }).text === 'string') return (x as { text: string }).text;
  return undefined;
}

export function toReading(device: string, m: NodeMapping, dv: DataValueLike, receivedAt: number): Reading {
  const ts = timestampOf(dv, receivedAt);
  const code = dv.statusCode?.value ?? 0;
  const quality = severity(code);
  const base: Reading = { device, metric: m.metric, ts, value: null };
  if (m.unit !== undefined && m.map === undefined) base.unit = m.unit;
  // `||`: an empty status name is no reason either.
  if (quality === 'bad') return { ...base, quality, reason: dv.statusCode?.name || `Bad (0x${code.toString(16)})` };
  const raw = plainValue(dv.value);
  const reading: Reading = quality === 'good' ? base : { ...base, quality, reason: dv.statusCode?.name || 'Uncertain' };
  if (raw === undefined) return { ...reading, quality: 'bad', reason: 'decode_error' };
  if (m.map) {
    // Own keys only: a server string such as "constructor" must not find Object.prototype's.
    const key = String(raw);
    const mapped = Object.hasOwn(m.map, key) ? m.map[key] : undefined;
    return mapped === undefined ? { ...reading, quality: 'bad', reason: 'out_of_range', value: null } : { ...reading, value: mapped };
  }
  // NaN or ±Infinity (a float node, an invalid DateTime) is no measurement.
  if (typeof raw === 'number' && !Number.isFinite(raw)) return { ...reading, quality: 'bad', reason: 'decode_error' };
  if (m.scale === undefined && m.offset === undefined) return { ...reading, value: raw };
  const n = typeof raw === 'bigint' ? Number(raw) : typeof raw === 'number' ? raw : Number.NaN;
  if (!Number.isFinite(n)) return { ...reading, quality: 'bad', reason: 'decode_error' };
  // Round away binary noise of the factor (0.1 × 3 = 0.30000000000000004).
  const scaled = Number((n * (m.scale ?? 1) + (m.offset ?? 0)).toPrecision(15));
  return Number.isFinite(scaled) ? { ...reading, value: scaled } : { ...reading, quality: 'bad', reason: 'out_of_range' };
}
