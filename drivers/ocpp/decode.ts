import type { Reading } from '../../gateway/model/types.js';
import type { OcppProfile } from './profile-schema.js';

/**
 * Pure decoding of OCPP 1.6 payloads (already schema-checked by the RPC layer) into readings of
 * one connector's device. The unit a sampled value states wins over the profile's default.
 */

export interface SampledValue {
  value: string;
  context?: string;
  format?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  unit?: string;
}
export interface MeterValue {
  timestamp: string;
  sampledValue: SampledValue[];
}

/** OCPP 2.0.1: the value is a number; unitOfMeasure {unit (default Wh), multiplier (power of ten)}. */
export interface SampledValue201 {
  value: number;
  context?: string;
  measurand?: string;
  phase?: string;
  location?: string;
  signedMeterValue?: unknown;
  unitOfMeasure?: { unit?: string; multiplier?: number };
}
export interface MeterValue201 {
  timestamp: string;
  sampledValue: SampledValue201[];
}

/**
 * 2.0.1 meter values in the 1.6 shape the profile reads: the multiplier applied, the value as
 * text (exact for the integers and decimals chargers send).
 */
export function from201(values: readonly MeterValue201[]): MeterValue[] {
  return values.map((mv) => ({
    timestamp: mv.timestamp,
    sampledValue: mv.sampledValue.map((sv) => {
      const m = sv.unitOfMeasure?.multiplier ?? 0;
      const v = m === 0 ? sv.value : Number((sv.value * 10 ** m).toPrecision(15));
      const out: SampledValue = { value: String(v) };
      if (sv.context !== undefined) out.context = sv.context;
      if (sv.measurand !== undefined) out.measurand = sv.measurand;
      if (sv.phase !== undefined) out.phase = sv.phase;
      if (sv.location !== undefined) out.location = sv.location;
      if (sv.unitOfMeasure?.unit !== undefined) out.unit = sv.unitOfMeasure.unit;
      return out;
    }),
  }));
}

/** The energy register (Wh) in a list of meter values, the last one given, for a session's start and end. */
export function energyRegister(profile: OcppProfile, values: readonly MeterValue[]): number | undefined {
  const metric = profile.transaction_meter;
  if (metric === undefined) return undefined;
  const r = meterReadings(profile, '', values).readings.filter((x) => x.metric === metric);
  const last = r[r.length - 1];
  if (!last || typeof last.value !== 'number') return undefined;
  return last.unit === 'kWh' ? last.value * 1000 : last.value;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; detail: string };

/** OCPP's default measurand when a sampled value names none (section 7.31). */
const DEFAULT_MEASURAND = 'Energy.Active.Import.Register';

export function parseTime(s: string | undefined, fallback: number): Decoded<number> {
  if (s === undefined) return { ok: true, value: fallback };
  const t = Date.parse(s);
  if (!Number.isFinite(t) || !/^\d{4}-\d{2}-\d{2}T/.test(s)) return { ok: false, reason: 'bad_timestamp', detail: `"${s.slice(0, 40)}" is not an ISO 8601 time` };
  return { ok: true, value: t };
}

/** StatusNotification's status as the profile maps it. */
export function statusReading(profile: OcppProfile, device: string, status: string, ts: number): Decoded<Reading> {
  const v = profile.status.map[status];
  if (v === undefined) return { ok: false, reason: 'unknown_status', detail: `status "${status.slice(0, 40)}" is not in profile ${profile.id}` };
  return { ok: true, value: { device, metric: profile.status.metric, value: v, ts } };
}

/**
 * One MeterValues payload's meterValue list into readings. Signed data and values measured at
 * the EV or inlet are not the charger's delivery and are skipped; per-phase values are summed
 * when no total is given. A value that is not a number is a refusal of that value only.
 */
export function meterReadings(profile: OcppProfile, device: string, values: readonly MeterValue[]): { readings: Reading[]; problems: { reason: string; detail: string }[] } {
  const readings: Reading[] = [];
  const problems: { reason: string; detail: string }[] = [];
  for (const mv of values) {
    const t = parseTime(mv.timestamp, Number.NaN);
    if (!t.ok) {
      problems.push(t);
      continue;
    }
    for (const m of profile.measurands) {
      const mine = mv.sampledValue.filter((s) => (s.measurand ?? DEFAULT_MEASURAND) === m.measurand && (s.location ?? 'Outlet') === 'Outlet' && (s.format ?? 'Raw') === 'Raw');
      if (mine.length === 0) continue;
      const total = mine.filter((s) => s.phase === undefined);
      const perPhase = mine.filter((s) => s.phase !== undefined && /^L[123](-N)?$/.test(s.phase));
      const use = total.length > 0 ? total.slice(-1) : m.phases === 'sum' ? perPhase : [];
      if (use.length === 0) continue;
      let sum = 0;
      let unit: string | undefined;
      let bad: string | undefined;
      for (const s of use) {
        const u = s.unit ?? m.unit;
        if (!m.units.includes(u)) bad = `unit "${u.slice(0, 20)}" is not one of ${m.units.join(', ')} for ${m.measurand}`;
        else if (unit !== undefined && u !== unit) bad = `phases of ${m.measurand} in different units`;
        const n = /^[-+]?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s.value.trim()) ? Number(s.value) : Number.NaN;
        if (!Number.isFinite(n)) bad = `"${s.value.slice(0, 20)}" is not a number (${m.measurand})`;
        unit = u;
        sum += n;
      }
      if (bad !== undefined) problems.push({ reason: 'bad_value', detail: bad });
      else readings.push({ device, metric: m.metric, value: sum, unit: unit ?? m.unit, ts: t.value });
    }
  }
  return { readings, problems };
}
