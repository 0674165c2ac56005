import { decodeAddress, decodeBcd, encodeAddress } from '../core/bcd.js';
import { buildFrame, scanFrame, type FrameLayout, type ScanResult } from '../core/meter-frame.js';

/**
 * CJ/T 188-2004 frames: `68 T A0..A6 C L DATA CS 16`. T is the meter type, the address 14 BCD
 * digits low byte first (A5 A6 are the manufacturer code on most meters), no 0x33 offset. Pure.
 */
export const ADDRESS_BYTES = 7;
export const WILDCARD_ADDRESS = 'AAAAAAAAAAAAAA';

export const METER_TYPE = {
  cold_water: 0x10,
  hot_water: 0x11,
  drinking_water: 0x12,
  reclaimed_water: 0x13,
  heat: 0x20,
  cold: 0x21,
  gas: 0x30,
  electricity: 0x40,
} as const;
export type MeterType = keyof typeof METER_TYPE;

const READ = 0x01;
const REPLY = 0x80;
const ERROR = 0x40;
/** The metering-data identifier (读计量数据). */
export const DI_METERING = 0x901f;

export const LAYOUT: FrameLayout = { headerLength: 11, lengthIndex: 10, maxData: 100 };

export const scan = (buf: Uint8Array, from = 0): ScanResult => scanFrame(buf, LAYOUT, from);

/**
 * The identifier's byte order. The standard's tables write `90 1F`; some vendors' meters send and
 * expect `1F 90` (low byte first). A reply is accepted in either order; a request uses the
 * device's setting.
 */
export type DiOrder = 'msb_first' | 'lsb_first';

export function diBytes(di: number, order: DiOrder): Buffer {
  const msb = Buffer.from([(di >> 8) & 0xff, di & 0xff]);
  return order === 'msb_first' ? msb : msb.reverse();
}

/** A request to one meter of `type`: control code C, then DI (in the device's order), SER and `more`. */
export function request(a: { type: number; address: string; control: number; di: number; seq?: number; order?: DiOrder; more?: readonly number[]; wakeUp?: number }): Buffer {
  const header = Buffer.concat([Buffer.from([0x68, a.type]), encodeAddress(a.address, ADDRESS_BYTES), Buffer.from([a.control])]);
  const data = Buffer.concat([diBytes(a.di, a.order ?? 'msb_first'), Buffer.from([(a.seq ?? 0) & 0xff, ...(a.more ?? [])])]);
  return buildFrame(header, data, a.wakeUp ?? 4);
}

export function readRequest(args: { type: number; address: string; di?: number; seq?: number; order?: DiOrder; wakeUp?: number }): Buffer {
  return request({ ...args, control: READ, di: args.di ?? DI_METERING });
}

export interface ParsedFrame {
  type: number;
  address: string;
  control: number;
  data: Buffer;
}

export function parseFrame(frame: Buffer): ParsedFrame {
  return {
    type: frame[1] as number,
    address: decodeAddress(frame.subarray(2, 9)),
    control: frame[9] as number,
    data: Buffer.from(frame.subarray(11, 11 + (frame[10] as number))),
  };
}

export type ReplyResult =
  | { kind: 'data'; type: number; address: string; seq: number; body: Buffer }
  | { kind: 'error_reply'; address: string; status: number }
  | { kind: 'mismatch'; why: string };

export function readReply(frame: Buffer, request: { address: string; di?: number; seq?: number }): ReplyResult {
  const p = parseFrame(frame);
  if ((p.control & REPLY) === 0) return { kind: 'mismatch', why: 'a request, not a reply (echo on a two-wire bus?)' };
  if ((p.control & 0x3f) !== READ) return { kind: 'mismatch', why: `control 0x${p.control.toString(16)} is not a read reply` };
  for (let i = 0; i < request.address.length; i++) {
    if (request.address[i] !== 'A' && request.address[i] !== p.address[i]) return { kind: 'mismatch', why: `reply from meter ${p.address}, not ${request.address}` };
  }
  if ((p.control & ERROR) !== 0) {
    // Error reply: DI, SER, then the status word (ST) saying why.
    return { kind: 'error_reply', address: p.address, status: p.data.length >= 5 ? (p.data[3] as number) | ((p.data[4] as number) << 8) : (p.data[0] ?? 0) };
  }
  const di = request.di ?? DI_METERING;
  const head = p.data.subarray(0, 2);
  if (!head.equals(diBytes(di, 'msb_first')) && !head.equals(diBytes(di, 'lsb_first'))) {
    return { kind: 'mismatch', why: `reply carries identifier ${head.toString('hex')}, not ${di.toString(16)}` };
  }
  const seq = p.data[2] ?? -1;
  if (request.seq !== undefined && seq !== request.seq) return { kind: 'mismatch', why: `sequence ${seq}, not ${request.seq}` };
  return { kind: 'data', type: p.type, address: p.address, seq, body: p.data.subarray(3) };
}

/**
 * Unit codes (CJ/T 188-2004 表 5), each with its catalog unit and factor. Vendors vary: a meter's
 * manual may add codes; an unknown code is never guessed.
 */
export const UNIT_CODES: Readonly<Record<number, { unit: string; factor: number; quantity: Quantity }>> = {
  0x29: { unit: 'm³', factor: 0.001, quantity: 'volume' }, // L
  0x2c: { unit: 'm³', factor: 1, quantity: 'volume' },
  0x32: { unit: 'm³/h', factor: 0.001, quantity: 'flow' }, // L/h
  0x35: { unit: 'm³/h', factor: 1, quantity: 'flow' },
  0x02: { unit: 'Wh', factor: 1, quantity: 'energy' },
  0x05: { unit: 'Wh', factor: 1e3, quantity: 'energy' }, // kWh
  0x08: { unit: 'Wh', factor: 1e6, quantity: 'energy' }, // MWh
  0x0a: { unit: 'Wh', factor: 1e8, quantity: 'energy' }, // MWh × 100
  0x0b: { unit: 'Wh', factor: 1 / 3.6, quantity: 'energy' }, // kJ
  0x0e: { unit: 'Wh', factor: 1e3 / 3.6, quantity: 'energy' }, // MJ
  0x11: { unit: 'Wh', factor: 1e6 / 3.6, quantity: 'energy' }, // GJ
  0x14: { unit: 'W', factor: 1, quantity: 'power' },
  0x17: { unit: 'W', factor: 1e3, quantity: 'power' }, // kW
  0x1a: { unit: 'W', factor: 1e6, quantity: 'power' }, // MW
};

export interface Measured {
  /** In the catalog unit of its quantity, converted by the unit code. */
  value: number;
  unit: string;
  code: number;
}

export type FieldResult = Measured | { error: 'not_bcd' | 'unknown_unit'; code?: number };

/** A 4-byte BCD quantity followed by its unit code. */
export type Quantity = 'volume' | 'flow' | 'energy' | 'power';

export function quantity(bytes: Uint8Array, decimals: number, expected: Quantity): FieldResult {
  const raw = decodeBcd(bytes.subarray(0, 4), { decimals });
  const code = bytes[4] as number;
  if (raw === undefined) return { error: 'not_bcd', code };
  const u = UNIT_CODES[code];
  if (!u || u.quantity !== expected) return { error: 'unknown_unit', code };
  return { value: raw * u.factor, unit: u.unit, code };
}

/** `ss mm hh DD MM YY YY` (BCD; year low byte first) as a UTC-less wall time string, or undefined. */
export function meterTime(bytes: Uint8Array): string | undefined {
  const d = (i: number) => decodeBcd(bytes.subarray(i, i + 1), { decimals: 0 });
  const [ss, mm, hh, day, month] = [d(0), d(1), d(2), d(3), d(4)];
  const year = decodeBcd(bytes.subarray(5, 7), { decimals: 0 });
  if ([ss, mm, hh, day, month, year].some((v) => v === undefined)) return undefined;
  const p = (v: number | undefined, n = 2) => String(v).padStart(n, '0');
  return `${p(year, 4)}-${p(month)}-${p(day)}T${p(hh)}:${p(mm)}:${p(ss)}`;
}

/** Status word ST (2 bytes, first byte standard): valve state in bits 0–1, battery low in bit 2. */
export function status(bytes: Uint8Array): { valve: 'open' | 'closed' | 'fault'; batteryLow: boolean; raw: number } {
  const st0 = bytes[0] ?? 0;
  const valveBits = st0 & 0x03;
  return { valve: valveBits === 0 ? 'open' : valveBits === 1 ? 'closed' : 'fault', batteryLow: (st0 & 0x04) !== 0, raw: st0 | ((bytes[1] ?? 0) << 8) };
}
