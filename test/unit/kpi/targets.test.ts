import { describe, expect, it } from 'vitest';
import { boundText, judge, minElapsed, targetKey } from '../../../gateway/kpi/targets.js';

const max300 = { max: 300, min_coverage: 0.9, hysteresis: 20 };
const min03 = { min: 0.3, min_coverage: 0.9, hysteresis: 0.02 };

describe('target verdicts', () => {
  it.each([
    ['inside a max bound', { value: 250, coverage: 1 }, max300, undefined, 'met'],
    ['on the bound is inside', { value: 300, coverage: 1 }, max300, undefined, 'met'],
    ['outside a max bound', { value: 301, coverage: 1 }, max300, 'met', 'missed'],
    ['back inside but not by the hysteresis', { value: 290, coverage: 1 }, max300, 'missed', 'missed'],
    ['back inside by the hysteresis', { value: 280, coverage: 1 }, max300, 'missed', 'met'],
    ['min bound, missed', { value: 0.29, coverage: 0.95 }, min03, 'met', 'missed'],
    ['min bound, recovering within hysteresis', { value: 0.31, coverage: 0.95 }, min03, 'missed', 'missed'],
    ['min bound, recovered', { value: 0.33, coverage: 0.95 }, min03, 'missed', 'met'],
    ['low coverage is unknown, never a confident wrong number', { value: 900, coverage: 0.5 }, max300, 'met', 'unknown'],
    ['no value is unknown', { value: null, coverage: 1 }, max300, undefined, 'unknown'],
    ['an open start at the p95 rank is beyond any max', { value: null, coverage: 1, beyond: true }, max300, undefined, 'missed'],
  ] as const)('%s', (_n, r, t, last, expected) => {
    expect(judge(r, t, last).status).toBe(expected);
  });

  it('says why a status is unknown', () => {
    expect(judge({ value: 1, coverage: 0.2 }, max300).reason).toBe('low_coverage');
    expect(judge({ value: null, coverage: 1 }, max300).reason).toBe('no_data');
  });

  it('judges a running window of a day or longer only once a quarter of it has passed', () => {
    expect([minElapsed({ ...min03, window: '15m' }), minElapsed({ ...min03, window: 'hour' }), minElapsed({ ...min03, window: 'day' }), minElapsed({ ...min03, window: 'month' })]).toEqual([0, 0, 0.25, 0.25]);
    const month = { ...min03, window: 'month' as const };
    // 00:05 on the 1st: self-sufficiency is 0 at night; that is not a missed month.
    expect(judge({ value: 0, coverage: 1, elapsed: 0.0001 }, month)).toEqual({ status: 'unknown', reason: 'too_early' });
    expect(judge({ value: 0, coverage: 1, elapsed: 0.25 }, month)).toEqual({ status: 'missed' });
    // A closed window is always judged; a target may ask for another share, or none.
    expect(judge({ value: 0, coverage: 1, elapsed: 1 }, { ...month, min_elapsed: 1 })).toEqual({ status: 'missed' });
    expect(judge({ value: 0, coverage: 1, elapsed: 0.5 }, { ...month, min_elapsed: 0.6 }).reason).toBe('too_early');
    expect(judge({ value: 0, coverage: 1, elapsed: 0.01 }, { ...month, min_elapsed: 0 })).toEqual({ status: 'missed' });
    expect(judge({ value: 0, coverage: 1, elapsed: 0.01 }, { ...min03, window: 'hour' })).toEqual({ status: 'missed' });
  });

  it('names targets stably', () => {
    expect(boundText({ max: 300 })).toBe('≤ 300');
    expect(boundText({ min: 0.3 })).toBe('≥ 0.3');
    expect(targetKey({ kpi: 'self_sufficiency', window: 'month', scope: { tag: 'building', value: 'b3' }, min: 0.3 })).toBe('self_sufficiency/month/building=b3/≥ 0.3');
  });
});
