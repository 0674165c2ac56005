import { describe, expect, it } from 'vitest';
import { combine, term } from '../../../gateway/kpi/context.js';
import type { Measure } from '../../../gateway/kpi/source.js';

const DAY = 86_400_000;
const m = (series: string, value: number, coverage: number): Measure => ({ series, value, coveredMs: coverage * DAY, spanMs: DAY });

describe('coverage of a sum: the share of the quantity measured on good input', () => {
  it('a master meter that saw 1 % of the day beside thirty household meters that saw all of it is about 1 % covered', () => {
    // 320 m³ a day through the master, of which it measured 3.2 m³; the households 0.3 m³ each.
    const households = Array.from({ length: 30 }, (_, i) => m(`hh-${i}`, 0.3, 1));
    const t = term([m('master', 3.2, 0.01), ...households]);
    expect(t.value).toBeCloseTo(12.2, 9);
    expect(t.coverage).toBeCloseTo(12.2 / (320 + 9), 6);
    // The mean of the meters' coverages would have said 97 %: a confident wrong number.
    expect(t.coverage).toBeLessThan(0.05);
  });

  it('healthy equal series: the plain share', () => {
    expect(term([m('a', 10, 1), m('b', 10, 1)]).coverage).toBe(1);
    expect(term([m('a', 5, 0.5), m('b', 10, 1)]).coverage).toBeCloseTo(15 / 20, 9);
  });

  it('a dead series that shows nothing weighs as an average member of the set', () => {
    const t = term([m('a', 10, 1), m('b', 10, 1), m('dead', 0, 0)]);
    expect(t.coverage).toBeCloseTo(20 / 30, 9);
  });

  it('a counter that bridged the whole window counts its amount, all of it uncovered', () => {
    expect(term([m('a', 30, 1), m('bridged', 10, 0)]).coverage).toBeCloseTo(30 / 40, 9);
  });

  it('when every series shows zero (PV at night) there is nothing to weigh by: the mean', () => {
    expect(term([m('a', 0, 1), m('b', 0, 0.5)]).coverage).toBeCloseTo(0.75, 9);
    expect(term([]).coverage).toBe(0);
  });

  it('a formula takes the lowest of its terms; a term with no series does not lower it', () => {
    const c = combine([term([m('pv', 100, 1)]), term([m('grid', 40, 0.5)]), term([])]);
    expect(c.coverage).toBe(0.5);
    expect(c.series).toEqual(['pv', 'grid']);
  });
});
