/**
 * The one codec table of the Modbus driver: register words ⇄ values, for every type and
 * word/byte order. Reads (decode), writes and the simulators (encode) all go through it, so an
 * order bug cannot hide in one direction only. Pure functions, no I/O.
 *
 * Orders, for a value of n 16-bit words (A = most significant byte):
 *   ABCD  big-endian, high word first (SunSpec, most devices)
 *   CDAB  word swap: low word first, bytes big-endian within each word
 *   BADC  byte swap: high word first, bytes swapped within each word
 *   DCBA  little-endian: low word first, bytes swapped (some Chinese water meters)
 */

export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'] as const;
export type WordOrder = (typeof WORD_ORDERS)[number];

export const POINT_TYPES = [
  'bit',
  'int16',
  'uint16',
  'int32',
  'uint32',
  'int64',
  'uint64',
  'float32',
  'float64',
  'string',
  'bitfield16',
  'bitfield32',
  'enum16',
  'acc16',
  'acc32',
  'acc64',
  'sunssf',
] as const;
export type PointType = (typeof POINT_TYPES)[number];

export type RawValue = number | bigint | string | boolean;

export class CodecError extends Error {
  constructor(
    readonly code: 'CODEC_LENGTH' | 'CODEC_VALUE',
    message: string,
  ) {
    super(message);
  }
}

interface Codec {
  /** Registers the type spans; strings take theirs from the point. */
  words: number;
  /** Canonical (ABCD) words → value. */
  decode(w: readonly number[]): RawValue;
  /** Value → canonical (ABCD) words. */
  encode(v: RawValue, words: number): number[];
  /** SunSpec's sentinel for "this device has no such point", as canonical words (undefined: none). */
  sentinel?(words: number): number[];
}

const big = (w: readonly number[]): bigint => w.reduce((acc, x) => (acc << 16n) | BigInt(x & 0xffff), 0n);
const fromBig = (v: bigint, n: number): number[] => {
  const out = new Array<number>(n);
  let x = BigInt.asUintN(16 * n, v);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffffn);
    x >>= 16n;
  }
  return out;
};
const toBig = (v: RawValue): bigint => {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v));
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new CodecError('CODEC_VALUE', `cannot encode ${String(v)} as an integer`);
};
const num = (v: RawValue): number => {
  const n = typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
  if (Number.isNaN(n) && !(typeof v === 'number')) throw new CodecError('CODEC_VALUE', `cannot encode ${String(v)} as a number`);
  return n;
};

const intCodec = (n: number, signed: boolean, sentinel?: bigint): Codec => {
  const bits = 16 * n;
  const wide = n > 2;
  const c: Codec = {
    words: n,
    decode: (w) => {
      const u = big(w);
      const v = signed ? BigInt.asIntN(bits, u) : u;
      // 64-bit values stay exact (bigint); the pipeline flags those beyond 2^53.
      return wide ? v : Number(v);
    },
    encode: (v) => {
      const b = toBig(v);
      const min = signed ? -(1n << BigInt(bits - 1)) : 0n;
      const max = signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n;
      if (b < min || b > max) throw new CodecError('CODEC_VALUE', `${b} does not fit ${signed ? 'int' : 'uint'}${bits}`);
      return fromBig(b, n);
    },
  };
  if (sentinel !== undefined) c.sentinel = () => fromBig(sentinel, n);
  return c;
};

const buf = Buffer.alloc(8);
const floatCodec = (n: 2 | 4): Codec => ({
  words: n,
  decode: (w) => {
    for (let i = 0; i < n; i++) buf.writeUInt16BE((w[i] ?? 0) & 0xffff, 2 * i);
    return n === 2 ? buf.readFloatBE(0) : buf.readDoubleBE(0);
  },
  encode: (v) => {
    const x = num(v);
    if (n === 2) buf.writeFloatBE(x, 0);
    else buf.writeDoubleBE(x, 0);
    return Array.from({ length: n }, (_, i) => buf.readUInt16BE(2 * i));
  },
  sentinel: () => (n === 2 ? [0x7fc0, 0x0000] : [0x7ff8, 0, 0, 0]),
});

const stringCodec: Codec = {
  words: 1,
  decode: (w) => {
    const b = Buffer.alloc(w.length * 2);
    w.forEach((x, i) => b.writeUInt16BE(x & 0xffff, 2 * i));
    const end = b.indexOf(0);
    return b.subarray(0, end < 0 ? b.length : end).toString('latin1').trimEnd();
  },
  encode: (v, words) => {
    const b = Buffer.alloc(words * 2);
    b.write(String(v).slice(0, words * 2), 'latin1');
    return Array.from({ length: words }, (_, i) => b.readUInt16BE(2 * i));
  },
  sentinel: (words) => new Array<number>(words).fill(0),
};

const bitCodec: Codec = {
  words: 1,
  decode: (w) => (w[0] ?? 0) !== 0,
  encode: (v) => [v === true || v === 1 || v === 1n || v === 'true' ? 1 : 0],
};

/** The table. `acc*` are SunSpec accumulators: 0 means the device has no such point. */
export const CODECS: Readonly<Record<PointType, Codec>> = {
  bit: bitCodec,
  int16: intCodec(1, true, 0x8000n),
  uint16: intCodec(1, false, 0xffffn),
  int32: intCodec(2, true, 0x80000000n),
  uint32: intCodec(2, false, 0xffffffffn),
  int64: intCodec(4, true, 0x8000000000000000n),
  uint64: intCodec(4, false, 0xffffffffffffffffn),
  float32: floatCodec(2),
  float64: floatCodec(4),
  string: stringCodec,
  bitfield16: intCodec(1, false, 0xffffn),
  bitfield32: intCodec(2, false, 0xffffffffn),
  enum16: intCodec(1, false, 0xffffn),
  acc16: intCodec(1, false, 0n),
  acc32: intCodec(2, false, 0n),
  acc64: intCodec(4, false, 0n),
  sunssf: intCodec(1, true, 0x8000n),
};

/** Registers a point of `type` spans (`length` for strings, in registers). */
export function wordsOf(type: PointType, length?: number): number {
  return type === 'string' ? Math.max(1, length ?? 1) : CODECS[type].words;
}

const swapBytes = (x: number): number => ((x & 0xff) << 8) | ((x >> 8) & 0xff);

/** Device words in `order` → canonical ABCD words. The mapping is its own inverse. */
export function toCanonical(words: readonly number[], order: WordOrder): number[] {
  const w = words.map((x) => x & 0xffff);
  // Strings are byte sequences; only the word order of numbers is swapped for them by callers.
  const reversed = order === 'CDAB' || order === 'DCBA' ? w.reverse() : w;
  return order === 'BADC' || order === 'DCBA' ? reversed.map(swapBytes) : reversed;
}

/** Canonical ABCD words → device words in `order`. */
export const fromCanonical = toCanonical;

export interface DecodeResult {
  value: RawValue | null;
  /** The device says it has no such point (SunSpec sentinel or a profile's own): reason `not_implemented`. */
  notImplemented: boolean;
}

export interface CodecOptions {
  order?: WordOrder;
  /** Registers of a string. */
  length?: number;
  /** Check the SunSpec not-implemented sentinel of the type (default true). */
  sentinel?: boolean;
}

/** Decode the raw words of one point. Throws CodecError only on a wrong word count. */
export function decodeWords(type: PointType, words: readonly number[], opts: CodecOptions = {}): DecodeResult {
  const n = wordsOf(type, opts.length);
  if (words.length !== n) throw new CodecError('CODEC_LENGTH', `${type} needs ${n} registers, got ${words.length}`);
  // Strings keep their byte order unless the device swaps bytes within words.
  const order = opts.order ?? 'ABCD';
  const canon = type === 'string' ? toCanonical(words, order === 'BADC' || order === 'DCBA' ? 'BADC' : 'ABCD') : toCanonical(words, order);
  const codec = CODECS[type];
  if (opts.sentinel !== false && codec.sentinel) {
    if (type === 'string') {
      if (((canon[0] ?? 0) >> 8) === 0) return { value: null, notImplemented: true };
    } else if (type === 'float32' || type === 'float64') {
      const v = codec.decode(canon) as number;
      if (Number.isNaN(v)) return { value: null, notImplemented: true };
      return { value: v, notImplemented: false };
    } else {
      const s = codec.sentinel(n);
      if (s.every((x, i) => x === canon[i])) return { value: null, notImplemented: true };
    }
  }
  return { value: codec.decode(canon), notImplemented: false };
}

/** Encode one raw value into device words. */
export function encodeWords(type: PointType, value: RawValue, opts: Omit<CodecOptions, 'sentinel'> = {}): number[] {
  const n = wordsOf(type, opts.length);
  const canon = CODECS[type].encode(value, n);
  const order = opts.order ?? 'ABCD';
  return type === 'string' ? fromCanonical(canon, order === 'BADC' || order === 'DCBA' ? 'BADC' : 'ABCD') : fromCanonical(canon, order);
}

/** The not-implemented sentinel of a type in device words (for simulators' fault injection). */
export function sentinelWords(type: PointType, opts: Omit<CodecOptions, 'sentinel'> = {}): number[] | undefined {
  const n = wordsOf(type, opts.length);
  const s = CODECS[type].sentinel?.(n);
  if (!s) return undefined;
  return type === 'string' ? s : fromCanonical(s, opts.order ?? 'ABCD');
}

/** Named bits of a bitfield that are set. */
export function setBits(value: number | bigint, names: Readonly<Record<string, number>>): string[] {
  const v = BigInt(value);
  return Object.entries(names)
    .filter(([, bit]) => ((v >> BigInt(bit)) & 1n) === 1n)
    .map(([name]) => name);
}
