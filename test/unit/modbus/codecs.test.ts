import { describe, expect, it } from 'vitest';
import { decodeWords, encodeWords, sentinelWords, setBits, toCanonical, POINT_TYPES, WORD_ORDERS, type PointType, type RawValue, type WordOrder } from '../../../drivers/modbus/codecs.js';

// Device words for each order of the 32-bit value 0x11223344 and 64-bit 0x1122334455667788.
const ORDER32: Record<WordOrder, number[]> = {
  ABCD: [0x1122, 0x3344],
  CDAB: [0x3344, 0x1122],
  BADC: [0x2211, 0x4433],
  DCBA: [0x4433, 0x2211],
};
const ORDER64: Record<WordOrder, number[]> = {
  ABCD: [0x1122, 0x3344, 0x5566, 0x7788],
  CDAB: [0x7788, 0x5566, 0x3344, 0x1122],
  BADC: [0x2211, 0x4433, 0x6655, 0x8877],
  DCBA: [0x8877, 0x6655, 0x4433, 0x2211],
};

describe('word orders', () => {
  for (const order of WORD_ORDERS) {
    it(`uint32 ${order}`, () => {
      expect(decodeWords('uint32', ORDER32[order], { order }).value).toBe(0x11223344);
      expect(encodeWords('uint32', 0x11223344, { order })).toEqual(ORDER32[order]);
    });
    it(`uint64 ${order} stays exact`, () => {
      expect(decodeWords('uint64', ORDER64[order], { order }).value).toBe(0x1122334455667788n);
      expect(encodeWords('uint64', 0x1122334455667788n, { order })).toEqual(ORDER64[order]);
    });
  }
  it('16-bit values: byte-swapping orders swap, word orders do not', () => {
    expect(decodeWords('uint16', [0x1234], { order: 'ABCD' }).value).toBe(0x1234);
    expect(decodeWords('uint16', [0x1234], { order: 'CDAB' }).value).toBe(0x1234);
    expect(decodeWords('uint16', [0x3412], { order: 'BADC' }).value).toBe(0x1234);
    expect(decodeWords('uint16', [0x3412], { order: 'DCBA' }).value).toBe(0x1234);
  });
  it('canonical mapping is its own inverse', () => {
    for (const order of WORD_ORDERS) expect(toCanonical(toCanonical([1, 2, 0xabcd, 4], order), order)).toEqual([1, 2, 0xabcd, 4]);
  });
});

// type, device words (ABCD), expected value
const TABLE: [PointType, number[], RawValue][] = [
  ['int16', [0xfffe], -2],
  ['int16', [0x7fff], 32767],
  ['uint16', [0xfffe], 65534],
  ['int32', [0xffff, 0xfffe], -2],
  ['int32', [0x0001, 0x0000], 65536],
  ['uint32', [0xfffe, 0x0000], 0xfffe0000],
  ['int64', [0xffff, 0xffff, 0xffff, 0xfffe], -2n],
  ['uint64', [0x0020, 0x0000, 0x0000, 0x0001], 9007199254740993n], // 2^53 + 1, not representable as a double
  ['float32', [0x4148, 0x0000], 12.5],
  ['float32', [0xc2f6, 0xe979], -123.45600128173828],
  ['float64', [0x4029, 0x0000, 0x0000, 0x0000], 12.5],
  ['string', [0x5375, 0x6e53, 0x0000], 'SunS'],
  ['bitfield16', [0x0005], 5],
  ['bitfield32', [0x8000, 0x0001], 0x80000001],
  ['enum16', [0x0004], 4],
  ['acc16', [0x0010], 16],
  ['acc32', [0x0001, 0x86a0], 100000],
  ['acc64', [0x0000, 0x0000, 0x0001, 0x0000], 65536n],
  ['sunssf', [0xfffe], -2],
  ['bit', [1], true],
];

describe('codec table', () => {
  for (const [type, words, value] of TABLE) {
    it(`${type} ${words.map((w) => w.toString(16)).join(' ')} → ${String(value)}`, () => {
      const length = type === 'string' ? words.length : undefined;
      const res = decodeWords(type, words, { length, sentinel: false });
      expect(res.value).toEqual(value);
      // The simulators encode through the same table: the round trip is exact in every order.
      for (const order of WORD_ORDERS) {
        const enc = encodeWords(type, value, { order, length });
        expect(decodeWords(type, enc, { order, length, sentinel: false }).value).toEqual(value);
      }
    });
  }
  it('covers every type', () => {
    expect(new Set(TABLE.map(([t]) => t))).toEqual(new Set(POINT_TYPES));
  });
  it('rejects a wrong register count and values that do not fit', () => {
    expect(() => decodeWords('uint32', [1])).toThrow(/needs 2 registers/);
    expect(() => encodeWords('int16', 40000)).toThrow(/does not fit/);
    expect(() => encodeWords('uint16', -1)).toThrow(/does not fit/);
  });
});

describe('not-implemented sentinels', () => {
  const cases: [PointType, number[]][] = [
    ['int16', [0x8000]],
    ['uint16', [0xffff]],
    ['enum16', [0xffff]],
    ['bitfield16', [0xffff]],
    ['int32', [0x8000, 0x0000]],
    ['uint32', [0xffff, 0xffff]],
    ['bitfield32', [0xffff, 0xffff]],
    ['acc16', [0]],
    ['acc32', [0, 0]],
    ['acc64', [0, 0, 0, 0]],
    ['float32', [0x7fc0, 0x0000]],
    ['string', [0x0041, 0x4200]],
    ['sunssf', [0x8000]],
  ];
  for (const [type, words] of cases) {
    it(`${type} ${words.map((w) => w.toString(16)).join(' ')} is not implemented`, () => {
      const length = type === 'string' ? words.length : undefined;
      expect(decodeWords(type, words, { length })).toEqual({ value: null, notImplemented: true });
      // …unless the profile turns sentinel checking off (a plain register map where 0xFFFF is real).
      expect(decodeWords(type, words, { length, sentinel: false }).notImplemented).toBe(false);
    });
  }
  it('sentinelWords gives the sentinel in device order', () => {
    expect(sentinelWords('int32', { order: 'DCBA' })).toEqual([0x0000, 0x0080]);
    expect(decodeWords('int32', [0x0000, 0x0080], { order: 'DCBA' }).notImplemented).toBe(true);
  });
});

describe('bitfields', () => {
  it('names the set bits', () => {
    expect(setBits(0b1010, { dry: 0, reverse: 1, leak: 2, burst: 3 })).toEqual(['reverse', 'burst']);
    expect(setBits(1n << 40n, { high: 40, low: 0 })).toEqual(['high']);
  });
});
