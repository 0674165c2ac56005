import { isKnownUnit } from '../../gateway/model/units.js';

/**
 * EngineeringUnits (an EUInformation: namespaceUri, unitId, displayName) → the native unit names the
 * pipeline converts. OPC UA uses the UNECE Recommendation 20 common codes (OPC 10000-8 5.6.3): the
 * unitId packs the code's ASCII letters, so "KWT" (kilowatt) is 0x4B5754. The display name is the
 * fallback when the namespace is not UNECE's or the code is not one we know.
 */

export const UNECE_URI = 'http://www.opcfoundation.org/UA/units/un/cefact';

const BY_CODE: Record<string, string> = {
  CEL: '°C',
  KEL: 'K',
  FAH: '°F',
  WTT: 'W',
  KWT: 'kW',
  MAW: 'MW',
  WHR: 'Wh',
  KWH: 'kWh',
  MWH: 'MWh',
  JOU: 'J',
  KJO: 'kJ',
  '3B': 'MJ',
  GV: 'GJ',
  MTQ: 'm³',
  LTR: 'L',
  MQH: 'm³/h',
  E32: 'L/h',
  L2: 'L/min',
  P1: '%',
  SEC: 's',
  MIN: 'min',
  HUR: 'h',
};

/** The UNECE common code of a unitId (1–3 ASCII characters packed big-endian). */
export function codeOf(unitId: number): string {
  let s = '';
  for (let shift = 16; shift >= 0; shift -= 8) {
    const c = (unitId >>> shift) & 0xff;
    if (c) s += String.fromCharCode(c);
  }
  return s;
}

export function unitIdOf(code: string): number {
  let id = 0;
  for (const ch of code) id = (id << 8) | ch.charCodeAt(0);
  return id;
}

/** Known native units by UNECE code, for the simulator's EngineeringUnits. */
export function euFor(unit: string): { unitId: number; code: string } | undefined {
  const entry = Object.entries(BY_CODE).find(([, u]) => u === unit);
  return entry ? { unitId: unitIdOf(entry[0]), code: entry[0] } : undefined;
}

/**
 * The native unit an EUInformation names, or undefined when neither its code nor its display name
 * is one the pipeline knows (the profile's `unit`, if any, is used then).
 */
export function unitFromEu(eu: { unitId?: number; displayName?: { text?: string | null } | null; namespaceUri?: string | null } | null | undefined): string | undefined {
  if (!eu) return undefined;
  if ((eu.namespaceUri ?? UNECE_URI) === UNECE_URI && typeof eu.unitId === 'number' && eu.unitId > 0) {
    const u = BY_CODE[codeOf(eu.unitId)];
    if (u) return u;
  }
  const text = eu.displayName?.text?.trim();
  return text && isKnownUnit(text) ? text : undefined;
}
