/**
 * Packed BCD as the Chinese metering standards send it (DL/T 645, CJ/T 188): two decimal digits a
 * byte, high nibble first within a byte, bytes low first on the wire. Pure functions, no I/O.
 */

/** The digits of `bytes` (wire order, low byte first), most significant first; undefined if a nibble is not 0–9. */
export function bcdDigits(bytes: Uint8Array): string | undefined {
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) {
    const b = bytes[i] as number;
    const hi = b >> 4;
    const lo = b & 0x0f;
    if (hi > 9 || lo > 9) return undefined;
    out += String(hi) + String(lo);
  }
  return out;
}

export interface BcdFormat {
  /** Digits after the decimal point (XXXXXX.XX → 2). */
  decimals: number;
  /** The top bit of the most significant byte is the sign (DL/T 645 power and current). */
  signed?: boolean;
}

/**
 * The number a packed-BCD field holds, or undefined when it is not BCD (a meter that answers
 * 0xFF… for "no value", or a corrupted frame): never a made-up number.
 */
export function decodeBcd(bytes: Uint8Array, format: BcdFormat): number | undefined {
  if (bytes.length === 0) return undefined;
  const copy = Uint8Array.from(bytes);
  let negative = false;
  if (format.signed) {
    const top = copy.length - 1;
    negative = ((copy[top] as number) & 0x80) !== 0;
    copy[top] = (copy[top] as number) & 0x7f;
  }
  const digits = bcdDigits(copy);
  if (digits === undefined) return undefined;
  const value = Number(digits) / 10 ** format.decimals;
  return negative && value !== 0 ? -value : value;
}

/** Packs a non-negative value into `size` BCD bytes, low byte first. Throws if it does not fit. */
export function encodeBcd(value: number, size: number, format: BcdFormat): Buffer {
  const negative = value < 0;
  if (negative && !format.signed) throw new RangeError(`negative value ${value} in an unsigned BCD field`);
  const scaled = Math.round(Math.abs(value) * 10 ** format.decimals);
  const digits = String(scaled).padStart(size * 2, '0');
  if (digits.length > size * 2) throw new RangeError(`${value} does not fit ${size} BCD bytes`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    const pair = digits.slice(digits.length - 2 * (i + 1), digits.length - 2 * i);
    out[i] = (Number(pair[0]) << 4) | Number(pair[1]);
  }
  if (negative) {
    if (((out[size - 1] as number) & 0x80) !== 0) throw new RangeError(`${value} does not fit ${size} signed BCD bytes`);
    out[size - 1] = (out[size - 1] as number) | 0x80;
  }
  return out;
}

/**
 * A meter address as printed on its label (12 or 14 decimal digits) to wire bytes, low byte first.
 * `A` digits stand for the wildcard nibble 0xA (DL/T 645 shortened addressing, `AA…` broadcast).
 */
export function encodeAddress(label: string, size: number): Buffer {
  if (!new RegExp(`^[0-9Aa]{${size * 2}}$`).test(label)) throw new RangeError(`address must be ${size * 2} digits, got "${label}"`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    const pair = label.slice(label.length - 2 * (i + 1), label.length - 2 * i);
    out[i] = parseInt(pair, 16);
  }
  return out;
}

/** Wire bytes (low first) back to the label's digits; wildcard nibbles come back as `A`. */
export function decodeAddress(bytes: Uint8Array): string {
  let out = '';
  for (let i = bytes.length - 1; i >= 0; i--) out += (bytes[i] as number).toString(16).padStart(2, '0').toUpperCase();
  return out;
}

/** Sum of bytes modulo 256: the check byte of both standards. */
export function checksum8(bytes: Uint8Array, from = 0, to = bytes.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s = (s + (bytes[i] as number)) & 0xff;
  return s;
}
