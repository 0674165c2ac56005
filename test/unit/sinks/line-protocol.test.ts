import { describe, expect, it } from 'vitest';
import type { GatewayEvent, Sample } from '../../../gateway/model/types.js';
import { EncodeError, escapeKey, escapeMeasurement, LineEncoder, quoteString, RESERVED_FIELDS } from '../../../gateway/sinks/line-protocol.js';
import { CATALOG } from '../../../gateway/model/catalog.js';

const T = 1_732_250_000_123;
const sample = (over: Partial<Sample>): Sample => ({ site: 'lianhua', device: 'pv-1', class: 'pv_inverter', metric: 'ac_power', ts: T, value: 1234.5, quality: 'good', ...over });

/** Golden cases: record (and the device's static tags) → the exact line (spec/metrics.md). */
describe('line protocol', () => {
  const tags: Record<string, Record<string, string>> = {
    'wm-1': { water_type: 'reclaimed', building: 'B 2' },
    'odd': { 'a,b': 'x=y', time: 'refused', _start: 'influx-internal', empty: '', site: 'spoofed' },
  };
  const enc = () => new LineEncoder((d) => tags[d] ?? {});

  it.each<[string, Sample, string]>([
    ['a good number', sample({}), `pv_inverter,device=pv-1,site=lianhua ac_power=1234.5 ${T}`],
    ['an integer counter', sample({ metric: 'energy_total', value: 5_000_000 }), `pv_inverter,device=pv-1,site=lianhua energy_total=5000000 ${T}`],
    ['an enum state as a string', sample({ metric: 'state', value: 'mppt' }), `pv_inverter,device=pv-1,site=lianhua state="mppt" ${T}`],
    ['a boolean', sample({ device: 'wm-1', class: 'water_meter', metric: 'leak', value: true }), `water_meter,building=B\\ 2,device=wm-1,site=lianhua,water_type=reclaimed leak=true ${T}`],
    ['uncertain with its reason, in the same point', sample({ value: 7, quality: 'uncertain', reason: 'out_of_range' }), `pv_inverter,device=pv-1,site=lianhua ac_power=7,quality="uncertain",quality_reason="out_of_range" ${T}`],
    ['no value: which metric is missing', sample({ value: null, quality: 'bad', reason: 'comm_error' }), `pv_inverter,device=pv-1,site=lianhua quality="bad",quality_reason="comm_error",quality_metric="ac_power" ${T}`],
    ['a fractional ms timestamp is truncated', sample({ ts: T + 0.9 }), `pv_inverter,device=pv-1,site=lianhua ac_power=1234.5 ${T}`],
  ])('%s', (_name, s, line) => {
    expect(enc().sample(s)).toBe(line);
  });

  it('sorts static tags, escapes them, leaves out empty and reserved keys, and never lets a tag override site or device', () => {
    const line = enc().sample(sample({ device: 'odd' }));
    expect(line).toBe(`pv_inverter,a\\,b=x\\=y,device=odd,site=lianhua ac_power=1234.5 ${T}`);
  });

  it('writes an event as its type (value 1) plus its attributes', () => {
    const e: GatewayEvent = { site: 'lianhua', device: 'gate-1', class: 'parking_garage', type: 'vehicle_entry', ts: T, attributes: { vehicle: 'p:3f2a', gate: 'north gate', resident: true } };
    expect(enc().event(e)).toBe(`parking_garage,device=gate-1,site=lianhua vehicle_entry=1,gate="north gate",resident=true,vehicle="p:3f2a" ${T}`);
  });

  it('escapes names and strings the way InfluxDB reads them; line breaks never split a line', () => {
    expect(escapeMeasurement('a b,c=d')).toBe('a\\ b\\,c=d');
    expect(escapeKey('a b,c=d')).toBe('a\\ b\\,c\\=d');
    expect(quoteString('say "hi" \\ now')).toBe('"say \\"hi\\" \\\\ now"');
    expect(quoteString('two\nlines\tand\r')).toBe('"two\\nlines\\tand\\r"');
    expect(escapeKey('line\nbreak')).toBe('line\\nbreak');
    // A trailing backslash has no portable spelling (InfluxDB 1.6 and VictoriaMetrics differ): it becomes "/".
    expect(escapeKey('ends\\')).toBe('ends/');
    expect(escapeKey('mid\\dle')).toBe('mid\\dle');
    const line = enc().sample(sample({ metric: 'state', value: 'a\nb' }));
    expect(line.split('\n')).toHaveLength(1);
  });

  it('refuses what line protocol cannot carry (the runner dead-letters it)', () => {
    expect(() => enc().sample(sample({ value: Number.NaN }))).toThrow(EncodeError);
    expect(() => enc().sample(sample({ value: Number.POSITIVE_INFINITY }))).toThrow(/cannot be written/);
    expect(() => enc().sample(sample({ ts: Number.NaN }))).toThrow(/timestamp/);
  });

  it('picks up a device whose tags changed (the cached series key is per tags object)', () => {
    const live: Record<string, string> = { building: '1' };
    let current = live;
    const e = new LineEncoder(() => current);
    expect(e.sample(sample({}))).toContain(',building=1,');
    current = { building: '9' };
    expect(e.sample(sample({}))).toContain(',building=9,');
  });

  it('no catalog metric or event attribute uses a field name the encoder reserves', () => {
    for (const [cls, def] of Object.entries(CATALOG)) {
      for (const name of [...Object.keys(def.metrics), ...Object.values(def.events).flatMap((e) => Object.keys(e.attributes))]) {
        expect(RESERVED_FIELDS as readonly string[], `${cls}.${name}`).not.toContain(name);
      }
    }
  });
});
