import { decodeAddress, encodeAddress } from '../core/bcd.js';
import { buildFrame, scanFrame, type FrameLayout, type ScanResult } from '../core/meter-frame.js';

/**
 * DL/T 645 (2007 and 1997) frames: `68 A0..A5 68 C L DATA CS 16`, the address as 12 BCD digits low
 * byte first, every DATA byte sent with +0x33. Pure: builds requests, parses replies.
 */
export type Edition = '2007' | '1997';

export const ADDRESS_BYTES = 6;
/** `AA×6`: any meter (read-address request, or a single meter on a bus). */
export const WILDCARD_ADDRESS = 'AAAAAAAAAAAA';

export const CONTROL = {
  '2007': { read: 0x11, readFollowing: 0x12, readAddress: 0x13 },
  '1997': { read: 0x01, readFollowing: 0x02, readAddress: 0x01 },
} as const;
const REPLY = 0x80;
const ERROR = 0x40;
const FOLLOWS = 0x20;
const OFFSET = 0x33;

export const LAYOUT: FrameLayout = {
  headerLength: 10,
  lengthIndex: 9,
  headerOk: (buf, start) => buf[start + 7] === 0x68,
  maxData: 200,
};

/** Identifier bytes as sent: DI0 first. 2007 identifiers are 4 bytes, 1997 ones 2. */
export function diBytes(di: string, edition: Edition): Buffer {
  const size = edition === '2007' ? 4 : 2;
  if (!new RegExp(`^[0-9A-Fa-f]{${size * 2}}$`).test(di)) throw new RangeError(`a ${edition} data identifier is ${size * 2} hex digits, got "${di}"`);
  return Buffer.from(di, 'hex').reverse();
}

const shift = (data: Uint8Array, by: number): Buffer => Buffer.from(Array.from(data, (b) => (b + by) & 0xff));

function header(address: string, control: number): Buffer {
  return Buffer.concat([Buffer.from([0x68]), encodeAddress(address, ADDRESS_BYTES), Buffer.from([0x68, control])]);
}

/** A request to one meter: control code C and its DATA (sent with the 0x33 offset). */
export function request(address: string, control: number, data: Uint8Array, wakeUp = 4): Buffer {
  return buildFrame(header(address, control), shift(data, OFFSET), wakeUp);
}

export function readRequest(address: string, di: string, edition: Edition, wakeUp = 4): Buffer {
  return request(address, CONTROL[edition].read, diBytes(di, edition), wakeUp);
}

/** Asks whichever single meter is on the bus for its address (2007: C = 0x13 to `AA×6`). */
export function readAddressRequest(wakeUp = 4): Buffer {
  return buildFrame(header(WILDCARD_ADDRESS, CONTROL['2007'].readAddress), new Uint8Array(0), wakeUp);
}

export interface ParsedFrame {
  address: string;
  control: number;
  /** DATA with the 0x33 offset removed. */
  data: Buffer;
}

export function parseFrame(frame: Buffer): ParsedFrame {
  return {
    address: decodeAddress(frame.subarray(1, 7)),
    control: frame[8] as number,
    data: shift(frame.subarray(10, 10 + (frame[9] as number)), -OFFSET),
  };
}

export const scan = (buf: Uint8Array, from = 0): ScanResult => scanFrame(buf, LAYOUT, from);

export type ReplyResult =
  | { kind: 'value'; address: string; value: Buffer; more: boolean }
  | { kind: 'error_reply'; address: string; code: number; meaning: string }
  /** A frame that is not the answer to this request (another meter, a request echo, another DI). */
  | { kind: 'mismatch'; why: string };

/** Error byte bits (2007, table of 异常应答 ERR). */
const ERROR_BITS_2007 = ['other error', 'no such data', 'wrong password', 'baud rate cannot change', 'over annual zones', 'over daily slots', 'over tariffs'];

export function describeError(code: number, edition: Edition): string {
  if (edition === '1997') return `error 0x${code.toString(16).padStart(2, '0')}`;
  const parts = ERROR_BITS_2007.filter((_, bit) => (code & (1 << bit)) !== 0);
  return parts.length ? parts.join(', ') : `error 0x${code.toString(16).padStart(2, '0')}`;
}

/** Interprets a reply frame to `readRequest(address, di, edition)`. */
export function readReply(frame: Buffer, request: { address: string; di: string; edition: Edition }): ReplyResult {
  const p = parseFrame(frame);
  const expected = CONTROL[request.edition].read | REPLY;
  if ((p.control & REPLY) === 0) return { kind: 'mismatch', why: 'a request, not a reply (echo on a two-wire bus?)' };
  if ((p.control & 0x1f) !== (expected & 0x1f)) return { kind: 'mismatch', why: `control 0x${p.control.toString(16)} is not a read reply` };
  if (!addressMatches(request.address, p.address)) return { kind: 'mismatch', why: `reply from meter ${p.address}, not ${request.address}` };
  if ((p.control & ERROR) !== 0) {
    const code = p.data[0] ?? 0;
    return { kind: 'error_reply', address: p.address, code, meaning: describeError(code, request.edition) };
  }
  const di = diBytes(request.di, request.edition);
  if (p.data.length < di.length || !p.data.subarray(0, di.length).equals(di)) {
    return { kind: 'mismatch', why: `reply carries identifier ${Buffer.from(p.data.subarray(0, di.length)).reverse().toString('hex')}, not ${request.di}` };
  }
  return { kind: 'value', address: p.address, value: p.data.subarray(di.length), more: (p.control & FOLLOWS) !== 0 };
}

/** The address a read-address reply (C = 0x93) carries, or undefined. */
export function addressReply(frame: Buffer): string | undefined {
  const p = parseFrame(frame);
  if (p.control !== (CONTROL['2007'].readAddress | REPLY) || p.data.length < ADDRESS_BYTES) return undefined;
  return decodeAddress(p.data.subarray(0, ADDRESS_BYTES));
}

/** A wildcard nibble (A) in the request matches any digit in the reply (shortened addressing). */
export function addressMatches(requested: string, replied: string): boolean {
  if (requested.length !== replied.length) return false;
  for (let i = 0; i < requested.length; i++) if (requested[i] !== 'A' && requested[i] !== replied[i]) return false;
  return true;
}
