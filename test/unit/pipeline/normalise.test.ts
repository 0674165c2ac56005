import { describe, expect, it } from 'vitest';
import { CounterState, classifyDecrease } from '../../../gateway/pipeline/counters.js';
import { Dedupe, normalise, type NormaliseDeps } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { StalenessTracker } from '../../../gateway/pipeline/staleness.js';
import type { Reading } from '../../../gateway/model/types.js';

const T0 = Date.UTC(2026, 5, 1, 0, 0, 0);
const classes: Record<string, string> = {
  pv1: 'pv_inverter',
  meter: 'grid_meter',
  wm: 'water_meter',
  gate: 'parking_garage',
  door: 'access_door',
  hp: 'heat_pump',
  space: 'parking_space',
};

function deps(): NormaliseDeps {
  return {
    site: 'test',
    deviceClass: (d) => classes[d],
    counters: new CounterState(),
    dedupe: new Dedupe(),
    pseudo: new Pseudonymiser(Buffer.from('0123456789abcdef0123456789abcdef')),
    now: () => T0,
  };
}

const r = (device: string, metric: string, value: Reading['value'], extra: Partial<Reading> = {}): Reading => ({
  device,
  metric,
  value,
  ts: T0,
  ...extra,
});

describe('normalise: golden cases (reading → sample)', () => {
  const cases: [string, Reading, object][] = [
    ['kW to W', r('pv1', 'ac_power', 4.2, { unit: 'kW' }), { value: 4200, quality: 'good' }],
    ['kWh to Wh', r('pv1', 'energy_total', 1234.5, { unit: 'kWh' }), { value: 1234500, quality: 'good' }],
    ['litres to m³', r('wm', 'volume_total', 1500, { unit: 'L' }), { value: 1.5, quality: 'good' }],
    ['L/min to m³/h', r('wm', 'flow', 10, { unit: 'L/min' }), { value: 0.6, quality: 'good' }],
    ['kelvin to °C', r('hp', 'supply_temp', 318.15, { unit: 'K' }), { value: 45, quality: 'good' }],
    ['catalog unit by default', r('meter', 'power', -3000), { value: -3000, quality: 'good' }],
    ['enum normalised to lower case', r('pv1', 'state', 'MPPT'), { value: 'mppt', quality: 'good' }],
    ['unknown enum value is bad', r('pv1', 'state', 'dancing'), { value: null, quality: 'bad', reason: 'out_of_range' }],
    ['0/1 to boolean', r('space', 'occupied', 1), { value: true, quality: 'good' }],
    ['"off" to false', r('wm', 'leak', 'off'), { value: false, quality: 'good' }],
    ['negative PV power out of range', r('pv1', 'ac_power', -5), { value: -5, quality: 'bad', reason: 'out_of_range' }],
    ['numeric string accepted', r('meter', 'power', '12.5'), { value: 12.5, quality: 'good' }],
    ['garbage is a decode error', r('meter', 'power', 'abc'), { value: null, quality: 'bad', reason: 'decode_error' }],
    ['NaN is a decode error', r('meter', 'power', Number.NaN), { value: null, quality: 'bad', reason: 'decode_error' }],
    ['not implemented stays bad, no number', r('pv1', 'dc_power', 65535, { quality: 'bad', reason: 'not_implemented' }), { value: null, quality: 'bad', reason: 'not_implemented' }],
    ['null without quality becomes bad', r('meter', 'power', null), { value: null, quality: 'bad', reason: 'decode_error' }],
    ['incompatible unit is bad', r('meter', 'power', 5, { unit: 'm³' }), { value: null, quality: 'bad', reason: 'unit_mismatch' }],
    ['exact 64-bit counter within 2^53', r('pv1', 'energy_total', 9007199254740991n), { value: 9007199254740991, quality: 'good' }],
    ['64-bit counter above 2^53 is flagged', r('pv1', 'energy_total', 9007199254740993n), { quality: 'uncertain', reason: 'precision_loss' }],
  ];
  it.each(cases)('%s', (_name, reading, want) => {
    const res = normalise({ readings: [reading] }, deps());
    expect(res.rejections).toEqual([]);
    expect(res.samples).toHaveLength(1);
    expect(res.samples[0]).toMatchObject({ site: 'test', device: reading.device, metric: reading.metric, ts: T0, ...want });
  });

  it('rejects unknown devices, metrics, events and impossible timestamps with reasons', () => {
    const res = normalise(
      {
        readings: [r('ghost', 'power', 1), r('meter', 'voltage', 230), r('meter', 'power', 1, { ts: 5 }), r('meter', 'power', 1, { ts: T0 + 2 * 86_400_000 })],
        events: [{ device: 'gate', type: 'teleported', ts: T0, attributes: {} }, { device: 'gate', type: 'vehicle_entry', ts: T0, attributes: { gate: 'n' } }],
      },
      deps(),
    );
    expect(res.samples).toEqual([]);
    expect(res.rejections.map((x) => x.reason)).toEqual(['unknown_device', 'unknown_metric', 'bad_timestamp', 'bad_timestamp', 'unknown_event', 'missing_attribute']);
  });
});

describe('counters', () => {
  it.each([
    [100, 120, undefined, 'ok'],
    [100, 100 - 1e-12, undefined, 'ok'],
    [65530, 12, undefined, 'counter_rollover'],
    [4294967000, 100, undefined, 'counter_rollover'],
    [99_999.5, 0.3, 100_000, 'counter_rollover'],
    [5000, 10, undefined, 'counter_reset'],
    [52_000, 1_200, 100_000, 'counter_reset'],
  ] as const)('%d → %d (max %s) is %s', (prev, next, max, want) => expect(classifyDecrease(prev, next, max)).toBe(want));

  it('flags a reset and a rollover in the stream, keeps raw values, and ignores out-of-order points', () => {
    const d = deps();
    const seq = [1000, 1100, 1200, 50, 60, 55];
    const res = normalise({ readings: seq.map((v, i) => r('meter', 'import_total', v, { ts: T0 + (i === 5 ? 1 : i) * 60_000 })) }, d);
    expect(res.samples.map((s) => [s.value, s.quality, s.reason ?? ''])).toEqual([
      [1000, 'good', ''],
      [1100, 'good', ''],
      [1200, 'good', ''],
      [50, 'uncertain', 'counter_reset'],
      [60, 'good', ''],
      [55, 'good', ''],
    ]);
  });
});

describe('de-duplication', () => {
  it('drops an identical series+ts+value, keeps a corrected value for the same ts', () => {
    const d = deps();
    const a = normalise({ readings: [r('meter', 'power', 10), r('meter', 'power', 10), r('meter', 'power', 11)] }, d);
    expect(a.duplicates).toBe(1);
    expect(a.samples.map((s) => s.value)).toEqual([10, 11]);
  });
});

describe('pseudonymisation', () => {
  it('replaces personal attributes with a keyed, stable pseudonym and keeps the rest', () => {
    const d = deps();
    const ev = (plate: string) => ({ device: 'gate', type: 'vehicle_entry', ts: T0, attributes: { vehicle: plate, gate: 'north', resident: true } });
    const res = normalise({ events: [ev('浙A12345'), ev(' 浙a12345 '), ev('浙B99999')] }, d);
    const [a, b, c] = res.events.map((e) => e.attributes);
    expect(a?.['vehicle']).toMatch(/^p_[0-9a-f]{20}$/);
    expect(a?.['vehicle']).toBe(b?.['vehicle']);
    expect(a?.['vehicle']).not.toBe(c?.['vehicle']);
    expect(a).toMatchObject({ gate: 'north', resident: true });
    expect(JSON.stringify(res)).not.toContain('12345');
  });

  it('also hides personal-looking attributes a profile passes outside the catalog', () => {
    const res = normalise(
      { events: [{ device: 'door', type: 'access_granted', ts: T0, attributes: { credential: 'CARD-77', method: 'card', phone: '13800000000', door_name: 'B3' } }] },
      deps(),
    );
    const attrs = res.events[0]?.attributes ?? {};
    expect(JSON.stringify(attrs)).not.toMatch(/CARD-77|13800000000/);
    expect(attrs['method']).toBe('card');
    expect(attrs['door_name']).toMatch(/^p_/); // "name" looks personal: hidden, erring on the safe side
  });

  it('depends on the secret', () => {
    const a = new Pseudonymiser(Buffer.from('a'.repeat(32))).pseudonym('浙A12345');
    const b = new Pseudonymiser(Buffer.from('b'.repeat(32))).pseudonym('浙A12345');
    expect(a).not.toBe(b);
  });
});

describe('staleness', () => {
  it('reports a quiet device once, and again only after it spoke and went quiet again', () => {
    const s = new StalenessTracker((d) => (d === 'slow' ? 900_000 : 300_000));
    s.seen('fast', 0);
    s.seen('slow', 0);
    expect(s.sweep(299_000)).toEqual([]);
    expect(s.sweep(301_000)).toEqual(['fast']);
    expect(s.sweep(400_000)).toEqual([]);
    expect(s.isStale('fast')).toBe(true);
    s.seen('fast', 500_000);
    expect(s.isStale('fast')).toBe(false);
    expect(s.sweep(901_000).sort()).toEqual(['fast', 'slow']);
  });
});
