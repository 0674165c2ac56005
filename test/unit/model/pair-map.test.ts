import { describe, expect, it } from 'vitest';
import { PairMap } from '../../../gateway/model/pair-map.js';

describe('PairMap: a map keyed by two strings', () => {
  it('keeps pairs apart that one joined key could confuse, and counts them', () => {
    const m = new PairMap<number>();
    m.set('a', 'b\u0000c', 1).set('a\u0000b', 'c', 2).set('a', 'b', 3);
    expect(m.get('a', 'b\u0000c')).toBe(1);
    expect(m.get('a\u0000b', 'c')).toBe(2);
    expect(m.get('a', 'b')).toBe(3);
    expect(m.get('a', 'c')).toBeUndefined();
    expect(m.size).toBe(3);
    m.set('a', 'b', 4);
    expect(m.size).toBe(3);
    expect(m.get('a', 'b')).toBe(4);
    expect(m.has('a', 'b')).toBe(true);
    expect(m.has('b', 'a')).toBe(false);
  });

  it('gives up the first pair set first, and forgets a first string with its last pair', () => {
    const m = new PairMap<string>();
    m.set('dev-2', 'power', 'p2').set('dev-1', 'energy', 'e1').set('dev-2', 'energy', 'e2');
    expect(m.first()).toEqual(['dev-2', 'power']);
    expect([...m.entries()]).toEqual([
      ['dev-2', 'power', 'p2'],
      ['dev-2', 'energy', 'e2'],
      ['dev-1', 'energy', 'e1'],
    ]);
    expect(m.delete('dev-2', 'power')).toBe(true);
    expect(m.delete('dev-2', 'power')).toBe(false);
    expect(m.delete('dev-9', 'power')).toBe(false);
    expect(m.first()).toEqual(['dev-2', 'energy']);
    m.delete('dev-2', 'energy');
    expect(m.first()).toEqual(['dev-1', 'energy']);
    expect(m.size).toBe(1);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.first()).toBeUndefined();
  });

  it('bounded: a new pair beyond the limit pushes out the first; setting a kept pair again pushes out nothing', () => {
    const m = new PairMap<number>(2);
    m.set('a', 'x', 1).set('b', 'x', 2);
    m.set('a', 'x', 3);
    expect([...m.entries()]).toEqual([
      ['a', 'x', 3],
      ['b', 'x', 2],
    ]);
    m.set('c', 'x', 4);
    expect(m.size).toBe(2);
    expect(m.get('a', 'x')).toBeUndefined();
    expect([...m.entries()]).toEqual([
      ['b', 'x', 2],
      ['c', 'x', 4],
    ]);
  });
});
