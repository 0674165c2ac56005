import { describe, expect, it } from 'vitest';
import { metricDef } from '../../../gateway/model/catalog.js';
import type { Reading } from '../../../gateway/model/types.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Dedupe, normalise, type NormaliseDeps } from '../../../gateway/pipeline/normalise.js';
import { judgeGauge, judgeStep, limitsOf, Plausibility, REBASE_AFTER, type DeviceLimits } from '../../../gateway/pipeline/plausibility.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';

const T0 = Date.UTC(2026, 5, 1, 4, 0, 0);
const H = 3_600_000;

describe('plausibility: gauges against a limit (table)', () => {
  const cases: [string, number, number | undefined, number, string | undefined][] = [
    ['at the nameplate', 10_000, 10_000, 0.1, undefined],
    ['within the margin', 10_999, 10_000, 0.1, undefined],
    ['slightly beyond: uncertain', 12_000, 10_000, 0.1, 'uncertain'],
    ['up to 1.5 × (rating + margin): uncertain', 16_500, 10_000, 0.1, 'uncertain'],
    ['beyond that: bad', 16_501, 10_000, 0.1, 'bad'],
    ['10 × nameplate: bad', 100_000, 10_000, 0.1, 'bad'],
    ['negative (battery discharging) by magnitude', -100_000, 10_000, 0.1, 'bad'],
    ['no limit known: plausible', 1e12, undefined, 0.1, undefined],
    ['a wider margin for this device', 14_000, 10_000, 0.5, undefined],
  ];
  it.each(cases)('%s', (_n, value, limit, margin, want) => {
    expect(judgeGauge(value, limit, margin)?.quality).toBe(want);
  });
});

describe('plausibility: counter steps against rate × time (table)', () => {
  // 10 kW: in 5 s at most 13.9 Wh, plus a quarter hour of slack (2.5 kWh) for coarse registers.
  const cases: [string, number, number, string | undefined][] = [
    ['a normal 5 s step', 14, 5000, undefined],
    ['a kWh-resolution register stepping 1000 Wh', 1000, 5000, undefined],
    ['an hour at full power over an hour', 11_000, H, undefined],
    ['a little more than possible: bad all the same (a counter carries it on)', 16_000, H, 'bad'],
    ['a billion Wh in 5 s: bad', 1e9, 5000, 'bad'],
    ['after a day offline, a day of full sun is plausible', 240_000, 24 * H, undefined],
    ['no step', 0, 5000, undefined],
  ];
  it.each(cases)('%s', (_n, step, elapsed, want) => {
    expect(judgeStep(step, elapsed, 10_000, 0.1)?.quality).toBe(want);
  });
});

describe('plausibility: state', () => {
  const pv = metricDef('pv_inverter', 'ac_power');
  const energy = metricDef('pv_inverter', 'energy_total');
  if (!pv || !energy) throw new Error('catalog');
  const make = (limits: Record<string, DeviceLimits> = {}) => new Plausibility({ limits: (d) => limits[d] ?? {} });

  it('takes the nameplate from a fact reading, which is consumed, not a sample', () => {
    const p = make();
    expect(p.learn({ device: 'inv', metric: 'rated_power', value: 10, unit: 'kW', ts: T0 })).toBe(true);
    expect(p.learn({ device: 'inv', metric: 'ac_power', value: 10, ts: T0 })).toBe(false);
    expect(p.ratedPower('inv')).toBe(10_000);
    expect(p.judge('inv', 'ac_power', pv, T0, 100_000)).toEqual({ quality: 'bad', reason: 'implausible' });
    expect(p.judge('inv', 'ac_power', pv, T0, 9_000)).toBeUndefined();
    // A not-implemented nameplate teaches nothing.
    p.learn({ device: 'other', metric: 'rated_power', value: null, quality: 'bad', reason: 'not_implemented', ts: T0 });
    expect(p.ratedPower('other')).toBeUndefined();
  });

  it('a configured rating wins over the nameplate; without either, the catalog bound', () => {
    const p = make({ inv: { ratedPower: 50_000 } });
    p.learn({ device: 'inv', metric: 'rated_power', value: 10_000, ts: T0 });
    expect(p.judge('inv', 'ac_power', pv, T0, 40_000)).toBeUndefined();
    expect(p.judge('unrated', 'ac_power', pv, T0, 4e6)).toBeUndefined();
    expect(p.judge('unrated', 'ac_power', pv, T0, 1e9)?.quality).toBe('bad');
    expect(limitsOf({ rated_power: 8000, plausibility_margin: 0.3, invert: true })).toEqual({ ratedPower: 8000, margin: 0.3 });
    expect(limitsOf({ rated_power: 'lots' })).toEqual({});
  });

  it('remembers at most maxSeries counters: the first one seen is given up, and learned again', () => {
    const p = new Plausibility({ limits: () => ({ ratedPower: 10_000 }) }, 2);
    for (const d of ['a', 'b']) expect(p.judge(d, 'energy_total', energy, T0, 5_000_000)).toBeUndefined();
    // b remembered: a 1 GWh jump a minute later is implausible.
    expect(p.judge('b', 'energy_total', energy, T0 + 60_000, 1e9)?.quality).toBe('bad');
    // A third series pushes out the first; the second and third are still compared.
    expect(p.judge('c', 'energy_total', energy, T0, 5_000_000)).toBeUndefined();
    expect(p.judge('c', 'energy_total', energy, T0 + 60_000, 1e9)?.quality).toBe('bad');
    expect(p.judge('b', 'energy_total', energy, T0 + 60_000, 1e9)?.quality).toBe('bad');
    // a's next reading starts it afresh (nothing to compare with), then it is compared again.
    expect(p.judge('a', 'energy_total', energy, T0 + 60_000, 1e9)).toBeUndefined();
    expect(p.judge('a', 'energy_total', energy, T0 + 120_000, 1e9 + 100)).toBeUndefined();
    expect(p.judge('a', 'energy_total', energy, T0 + 180_000, 5e9)?.quality).toBe('bad');
  });

  it('a counter jump is implausible and does not move the baseline; the next normal reading is good', () => {
    const p = make({ inv: { ratedPower: 10_000 } });
    expect(p.judge('inv', 'energy_total', energy, T0, 5_000_000)).toBeUndefined();
    expect(p.judge('inv', 'energy_total', energy, T0 + 5000, 1_005_000_000)).toEqual({ quality: 'bad', reason: 'implausible' });
    expect(p.judge('inv', 'energy_total', energy, T0 + 10_000, 5_000_020)).toBeUndefined();
  });

  it(`a counter that stays at its new level for ${REBASE_AFTER} readings over a minute was set there: a reset`, () => {
    const p = make({ inv: { ratedPower: 10_000 } });
    p.judge('inv', 'energy_total', energy, T0, 1000);
    const got = [1, 2, 3, 4, 5].map((i) => p.judge('inv', 'energy_total', energy, T0 + i * 30_000, 9e8 + i * 10));
    expect(got).toEqual([
      { quality: 'bad', reason: 'implausible' },
      { quality: 'bad', reason: 'implausible' },
      { quality: 'uncertain', reason: 'counter_reset' },
      undefined,
      undefined,
    ]);
  });

  it('the same reading polled again while the clock stands still is one observation, judged the same', () => {
    const p = make({ inv: { ratedPower: 10_000 } });
    p.judge('inv', 'energy_total', energy, T0, 1000);
    const got = [1, 2, 3, 4, 5].map(() => p.judge('inv', 'energy_total', energy, T0 + 5000, 1e9));
    expect(got.every((v) => v?.quality === 'bad' && v.reason === 'implausible')).toBe(true);
  });
});

describe('plausibility in normalise: the raw value is kept, the sample is not good', () => {
  const deps = (): NormaliseDeps => ({
    site: 't',
    deviceClass: (d) => ({ inv: 'pv_inverter', bat: 'battery', wm: 'water_meter' })[d],
    counters: new CounterState(),
    dedupe: new Dedupe(),
    pseudo: new Pseudonymiser(Buffer.alloc(32, 1)),
    now: () => T0 + H,
    plausibility: new Plausibility({ limits: () => ({}) }),
  });
  const rd = (device: string, metric: string, value: Reading['value'], ts = T0, extra: Partial<Reading> = {}): Reading => ({ device, metric, value, ts, ...extra });

  it('10 × nameplate power and a billion-Wh counter jump', () => {
    const d = deps();
    const out = normalise(
      {
        readings: [
          rd('inv', 'rated_power', 5000),
          rd('inv', 'ac_power', 50_000),
          rd('inv', 'energy_total', 1_000_000),
          rd('inv', 'energy_total', 1_001_000_000, T0 + 5000),
          rd('inv', 'energy_total', 1_000_010, T0 + 10_000),
        ],
      },
      d,
    );
    expect(out.rejections).toEqual([]);
    expect(out.samples.map((s) => [s.metric, s.value, s.quality, s.reason])).toEqual([
      ['ac_power', 50_000, 'bad', 'implausible'],
      ['energy_total', 1_000_000, 'good', undefined],
      ['energy_total', 1_001_000_000, 'bad', 'implausible'],
      // Not a "reset": the implausible value never became the counter's last value.
      ['energy_total', 1_000_010, 'good', undefined],
    ]);
  });

  it('water flow beyond any community pipe is implausible; SoC beyond 100 stays out_of_range', () => {
    const out = normalise({ readings: [rd('wm', 'flow', 50_000), rd('wm', 'flow', 12), rd('bat', 'soc', 130)] }, deps());
    expect(out.samples.map((s) => [s.metric, s.value, s.quality, s.reason])).toEqual([
      ['flow', 50_000, 'bad', 'implausible'],
      ['flow', 12, 'good', undefined],
      ['soc', 130, 'bad', 'out_of_range'],
    ]);
  });
});
