import { metricDef } from '../model/catalog.js';
import type { Quality, SampleValue } from '../model/types.js';
import { QUALITY_CODE, QUALITY_NAME } from './schema.js';

/** How values live in SQLite's dynamic columns: numbers as REAL/INTEGER, booleans 0/1, enums TEXT. */
export function encodeValue(v: SampleValue | null): number | string | null {
  if (v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

/** A metric stored as 0/1 and read back as a boolean. */
export const boolMetric = (cls: string, metric: string): boolean => metricDef(cls, metric)?.unit === 'bool';

/** A stored value as the sample's value, given whether its metric is a boolean one. */
export function decodeStored(bool: boolean, raw: unknown): SampleValue | null {
  if (raw === null || raw === undefined) return null;
  if (bool) return raw === 1 || raw === 1n || raw === true;
  if (typeof raw === 'bigint') return Number(raw);
  return raw as SampleValue;
}

export const decodeValue = (cls: string, metric: string, raw: unknown): SampleValue | null => decodeStored(boolMetric(cls, metric), raw);

export const encodeQuality = (q: Quality): number => QUALITY_CODE[q];
export const decodeQuality = (code: number): Quality => QUALITY_NAME[code] ?? 'bad';
