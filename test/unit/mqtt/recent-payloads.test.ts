import { describe, expect, it } from 'vitest';
import { RecentPayloads } from '../../../drivers/mqtt/runtime.js';

const T = 1_764_000_000_000;

describe('RecentPayloads: the last eight payloads of a device, to refuse exact re-sends', () => {
  it('knows the same bytes at the same time, small or large; not other bytes, nor the same bytes at another time', () => {
    const r = new RecentPayloads();
    const small = Buffer.from('{"ts":1,"values":{"flow":2}}');
    const large = Buffer.alloc(5000, 0x61);
    r.add(T, small);
    r.add(T + 1, large);
    expect(r.has(T, Buffer.from(small))).toBe(true);
    expect(r.has(T + 1, Buffer.from(large))).toBe(true);
    expect(r.has(T + 2, small)).toBe(false);
    expect(r.has(T, Buffer.from('{"ts":1,"values":{"flow":3}}'))).toBe(false);
    // A prefix is not the same payload.
    expect(r.has(T, small.subarray(0, 10))).toBe(false);
    expect(r.has(T + 1, large.subarray(0, 4999))).toBe(false);
  });

  it('keeps copies: the socket buffer a payload was read from may be reused', () => {
    const r = new RecentPayloads();
    const read = Buffer.from('xx{"a":1}yy');
    const payload = read.subarray(2, 9);
    r.add(T, payload);
    read.fill(0);
    expect(r.has(T, Buffer.from('{"a":1}'))).toBe(true);
    const big = Buffer.alloc(1000, 0x62);
    r.add(T + 5, big);
    big.fill(0);
    expect(r.has(T + 5, Buffer.alloc(1000, 0x62))).toBe(true);
  });

  it('forgets the oldest after eight, and a dropped one (a failed commit) unless a newer one took its slot', () => {
    const r = new RecentPayloads();
    const p = (i: number) => Buffer.from(`{"i":${i}}`);
    const slots = Array.from({ length: 9 }, (_, i) => r.add(T + i, p(i)));
    expect(r.has(T, p(0))).toBe(false);
    for (let i = 1; i < 9; i++) expect(r.has(T + i, p(i)), String(i)).toBe(true);
    // Message 8 took message 0's slot: dropping message 0 leaves it.
    r.drop(slots[0] as number, T);
    expect(r.has(T + 8, p(8))).toBe(true);
    r.drop(slots[8] as number, T + 8);
    expect(r.has(T + 8, p(8))).toBe(false);
    expect(r.has(T + 7, p(7))).toBe(true);
  });
});
