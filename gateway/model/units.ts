import type { CatalogUnit } from './catalog.js';

/**
 * Native units a profile may declare, and how each converts to a catalog unit:
 * catalog = native × factor + offset. Scale (×0.1, ×0.01) belongs to the profile, not here.
 */
interface Conversion {
  to: CatalogUnit;
  factor: number;
  offset?: number;
}

const CONVERSIONS: Record<string, Conversion> = {
  W: { to: 'W', factor: 1 },
  kW: { to: 'W', factor: 1e3 },
  MW: { to: 'W', factor: 1e6 },
  Wh: { to: 'Wh', factor: 1 },
  kWh: { to: 'Wh', factor: 1e3 },
  MWh: { to: 'Wh', factor: 1e6 },
  J: { to: 'Wh', factor: 1 / 3600 },
  kJ: { to: 'Wh', factor: 1 / 3.6 },
  MJ: { to: 'Wh', factor: 1e3 / 3.6 },
  GJ: { to: 'Wh', factor: 1e6 / 3.6 },
  '°C': { to: '°C', factor: 1 },
  degC: { to: '°C', factor: 1 },
  K: { to: '°C', factor: 1, offset: -273.15 },
  '°F': { to: '°C', factor: 5 / 9, offset: (-32 * 5) / 9 },
  'm³': { to: 'm³', factor: 1 },
  m3: { to: 'm³', factor: 1 },
  L: { to: 'm³', factor: 1e-3 },
  l: { to: 'm³', factor: 1e-3 },
  'm³/h': { to: 'm³/h', factor: 1 },
  'm3/h': { to: 'm³/h', factor: 1 },
  'L/h': { to: 'm³/h', factor: 1e-3 },
  'L/min': { to: 'm³/h', factor: 0.06 },
  'L/s': { to: 'm³/h', factor: 3.6 },
  '%': { to: '%', factor: 1 },
  ratio: { to: '%', factor: 100 },
  s: { to: 's', factor: 1 },
  ms: { to: 's', factor: 1e-3 },
  min: { to: 's', factor: 60 },
  h: { to: 's', factor: 3600 },
  count: { to: 'count', factor: 1 },
  bool: { to: 'bool', factor: 1 },
  enum: { to: 'enum', factor: 1 },
};

export const NATIVE_UNITS = Object.keys(CONVERSIONS);

export function isKnownUnit(unit: string): boolean {
  // Own keys only: "constructor" or "toString" (a device's unit text) are not units.
  return Object.hasOwn(CONVERSIONS, unit);
}

/** The catalog unit a native unit converts to, or undefined if the unit is unknown. */
export function catalogUnitOf(unit: string): CatalogUnit | undefined {
  return Object.hasOwn(CONVERSIONS, unit) ? CONVERSIONS[unit]?.to : undefined;
}

/**
 * Convert a number from a native unit to the catalog unit `target`.
 * Returns undefined when the units are incompatible (kWh into a °C metric, say).
 */
export function convert(value: number, from: string, target: CatalogUnit): number | undefined {
  const c = Object.hasOwn(CONVERSIONS, from) ? CONVERSIONS[from] : undefined;
  if (!c || c.to !== target) return undefined;
  const out = value * c.factor + (c.offset ?? 0);
  // Round away binary noise from the factor (0.1 × 1000 = 100.00000000000001).
  return c.factor === 1 && !c.offset ? out : Number(out.toPrecision(15));
}
