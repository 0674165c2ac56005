import { checksum8 } from './bcd.js';

/**
 * Finding one frame of a Chinese metering standard in a serial byte stream. Both DL/T 645 and
 * CJ/T 188 frame as `68 … L DATA CS 16`: a start byte, a fixed header holding the length of DATA,
 * the data, a sum-mod-256 check byte and an end byte 0x16. A bus carries wake-up bytes (0xFE) and,
 * on a noisy line or a shared serial-device server, garbage: the scanner skips both and says how
 * much it skipped, so a reader can count framing errors by reason.
 */
export interface FrameLayout {
  /** Bytes from the start byte up to and including L. */
  headerLength: number;
  /** Index of L within the header. */
  lengthIndex: number;
  /** Extra header check (DL/T 645: a second 0x68 at index 7). */
  headerOk?(buf: Uint8Array, start: number): boolean;
  /** Largest DATA a reply may carry; a longer L is a framing error, not a reason to wait. */
  maxData: number;
}

export type FrameErrorReason = 'checksum' | 'framing' | 'garbage';

export type ScanResult =
  | { kind: 'frame'; frame: Buffer; start: number; end: number; skipped: number }
  /** Not a whole frame yet: keep the bytes from `start` and read more. */
  | { kind: 'incomplete'; start: number; skipped: number }
  /** A broken frame from `start` to `end`: drop those bytes, count it, scan on. */
  | { kind: 'error'; reason: FrameErrorReason; start: number; end: number; skipped: number };

export const WAKE_UP = 0xfe;
const START = 0x68;
const END = 0x16;

/** Scans `buf` from `from` for the first frame. Pure. */
export function scanFrame(buf: Uint8Array, layout: FrameLayout, from = 0): ScanResult {
  let i = from;
  let skipped = 0;
  while (i < buf.length && buf[i] !== START) {
    if (buf[i] !== WAKE_UP) skipped++;
    i++;
  }
  if (i >= buf.length) return { kind: 'incomplete', start: buf.length, skipped };
  if (buf.length - i < layout.headerLength) return { kind: 'incomplete', start: i, skipped };
  if (layout.headerOk && !layout.headerOk(buf, i)) return { kind: 'error', reason: 'framing', start: i, end: i + 1, skipped };
  const dataLength = buf[i + layout.lengthIndex] as number;
  if (dataLength > layout.maxData) return { kind: 'error', reason: 'framing', start: i, end: i + 1, skipped };
  const total = layout.headerLength + dataLength + 2;
  if (buf.length - i < total) return { kind: 'incomplete', start: i, skipped };
  const csAt = i + layout.headerLength + dataLength;
  if (buf[csAt + 1] !== END) return { kind: 'error', reason: 'framing', start: i, end: i + 1, skipped };
  if (checksum8(buf, i, csAt) !== buf[csAt]) return { kind: 'error', reason: 'checksum', start: i, end: i + total, skipped };
  return { kind: 'frame', frame: Buffer.from(buf.subarray(i, i + total)), start: i, end: i + total, skipped };
}

/** Builds `68 … L DATA CS 16` from a header (without L) and data, with optional wake-up bytes. */
export function buildFrame(header: Uint8Array, data: Uint8Array, wakeUp = 0): Buffer {
  const body = Buffer.concat([Buffer.from(header), Buffer.from([data.length]), Buffer.from(data)]);
  const cs = checksum8(body);
  return Buffer.concat([Buffer.alloc(wakeUp, WAKE_UP), body, Buffer.from([cs, END])]);
}
