import { decodeBcd } from '../core/bcd.js';
import { meterTime, quantity, status, type FieldResult } from './frame.js';

/**
 * The bodies of a metering-data reply (after DI and SER), per meter type (CJ/T 188-2004 §7.2):
 * fields by name, each either its value in catalog units or why it could not be read. Pure.
 */
export type Field = FieldResult | { value: number | string | boolean };
export type Body = Record<string, Field>;

const fixed = (bytes: Uint8Array, decimals: number): Field => {
  const v = decodeBcd(bytes, { decimals });
  return v === undefined ? { error: 'not_bcd' } : { value: v };
};

function statusFields(bytes: Uint8Array): Body {
  const st = status(bytes);
  return { valve_closed: { value: st.valve === 'closed' }, valve_fault: { value: st.valve === 'fault' }, low_battery: { value: st.batteryLow }, status_word: { value: st.raw } };
}

function timeField(bytes: Uint8Array): Field {
  const t = meterTime(bytes);
  return t === undefined ? { error: 'not_bcd' } : { value: t };
}

/** Water and gas meters (T = 0x1x, 0x30): 19 bytes. */
export const WATER_BODY_LENGTH = 19;
export function waterBody(b: Uint8Array): Body | { error: 'short'; length: number } {
  if (b.length < WATER_BODY_LENGTH) return { error: 'short', length: b.length };
  return {
    volume_total: quantity(b.subarray(0, 5), 2, 'volume'),
    volume_settlement: quantity(b.subarray(5, 10), 2, 'volume'),
    meter_time: timeField(b.subarray(10, 17)),
    ...statusFields(b.subarray(17, 19)),
  };
}

/** Heat (and cold) meters (T = 0x20, 0x21): 43 bytes. */
export const HEAT_BODY_LENGTH = 43;
export function heatBody(b: Uint8Array): Body | { error: 'short'; length: number } {
  if (b.length < HEAT_BODY_LENGTH) return { error: 'short', length: b.length };
  return {
    heat_settlement: quantity(b.subarray(0, 5), 2, 'energy'),
    heat_total: quantity(b.subarray(5, 10), 2, 'energy'),
    thermal_power: quantity(b.subarray(10, 15), 2, 'power'),
    flow: quantity(b.subarray(15, 20), 4, 'flow'),
    volume_total: quantity(b.subarray(20, 25), 2, 'volume'),
    supply_temp: fixed(b.subarray(25, 28), 2),
    return_temp: fixed(b.subarray(28, 31), 2),
    working_hours: fixed(b.subarray(31, 34), 0),
    meter_time: timeField(b.subarray(34, 41)),
    ...statusFields(b.subarray(41, 43)),
  };
}
