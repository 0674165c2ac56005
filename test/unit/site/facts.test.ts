import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../drivers/index.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Dedupe, normalise, type NormaliseDeps } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { resolveSite, SiteFacts } from '../../../gateway/site/index.js';

/**
 * Device facts from the resolved site: a declared counter maximum in the register's unit or with
 * its own, the register's range × scale, and the pipeline's verdicts that follow from them.
 */

const { profiles } = loadProfiles(DRIVERS);
const config = (options: string) =>
  parseConfig(`version: 1
site: { id: t }
connections: [{ id: plant, protocol: modbus-tcp, host: 127.0.0.1 }]
devices:
  - { id: ess, class: battery, connection: plant, profile: plain-ess, unit: 5, options: ${options} }
`);
const siteOf = (options: string) => {
  const r = resolveSite({ config: config(options), profiles, profileProblems: [], drivers: DRIVERS });
  if (!r.ok) throw new Error(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  return r.site;
};

describe('series facts', () => {
  it('a counter maximum as a number (the unit the profile reports), with its own unit, per metric or for every counter', () => {
    expect(siteOf('{ counter_max: 100000 }').devices.get('ess')?.series.get('charged_total')?.counterMax).toEqual({ value: 100_000, unit: 'Wh', catalog: 100_000 });
    expect(siteOf('{ charged_total_max: "65.536 kWh" }').devices.get('ess')?.series.get('charged_total')?.counterMax).toEqual({ value: 65.536, unit: 'kWh', catalog: 65_536 });
    const per = siteOf('{ counter_max: 1000, discharged_total_max: 2000 }').devices.get('ess')?.series;
    expect([per?.get('charged_total')?.counterMax?.catalog, per?.get('discharged_total')?.counterMax?.catalog]).toEqual([1000, 2000]);
    // A gauge has no maximum; the profile's uint32 range is a fact of its own.
    expect(per?.get('power')?.counterMax).toBeUndefined();
    expect(per?.get('charged_total')).toMatchObject({ catalogUnit: 'Wh', scale: 1, rawRange: 2 ** 32, invert: false });
  });

  it('wrapOf: the declared maximum, else the register range times the scale', () => {
    expect(new SiteFacts(siteOf('{ counter_max: 5000 }')).wrapOf('ess', 'charged_total')).toBe(5000);
    expect(new SiteFacts(siteOf('{}')).wrapOf('ess', 'charged_total')).toBe(2 ** 32);
    expect(new SiteFacts(siteOf('{}')).wrapOf('nobody', 'charged_total')).toBeUndefined();
  });

  it('refuses a maximum that is no number, of another quantity, or for a gauge, with its path', () => {
    const problems = (options: string) => {
      const r = resolveSite({ config: config(options), profiles, profileProblems: [], drivers: DRIVERS });
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problems('{ counter_max: lots }')).toEqual(['devices[0].options.counter_max: "lots" is not a number with an optional unit (e.g. 65536 or "65536 kWh")']);
    expect(problems('{ counter_max: "10 m³" }')).toEqual(['devices[0].options.counter_max: unit "m³" does not convert to Wh']);
    expect(problems('{ power_max: 5 }')).toEqual(['devices[0].options.power_max: power is not a counter: only counters wrap']);
    expect(problems('{ counter_max: -3 }')).toEqual(['devices[0].options.counter_max: must be above 0, not -3']);
  });
});

describe('the pipeline decides wrap versus reset from the site', () => {
  const run = (facts: SiteFacts, values: [number, string][]) => {
    const deps: NormaliseDeps = {
      site: 't',
      deviceClass: () => 'grid_meter',
      counters: new CounterState(),
      dedupe: new Dedupe(),
      pseudo: new Pseudonymiser(Buffer.from('k'.repeat(32))),
      now: () => Date.parse('2024-06-03T12:00:00Z'),
      counterFacts: (d, m) => facts.counter(d, m),
    };
    return values.map(([v, unit], i) => normalise({ readings: [{ device: 'm', metric: 'import_total', value: v, unit, ts: Date.parse('2024-06-03T00:00:00Z') + i * 60_000 }] }, deps).samples[0]?.reason ?? 'ok');
  };
  const facts = (f: { max?: number; scale?: number; rawRange?: number }) => ({ counter: () => f, wrapOf: () => undefined }) as unknown as SiteFacts;

  it('a uint16 in 0.01 kWh that wraps: a wrap on its raw value (converted, 655 kWh is near no limit)', () => {
    expect(run(facts({ scale: 0.01, rawRange: 65536 }), [[650.1, 'kWh'], [1.2, 'kWh']])).toEqual(['ok', 'counter_rollover']);
    // The same readings judged on converted values (Wh), as before: a reset, and the KPI lost the step.
    expect(run(facts({}), [[650.1, 'kWh'], [1.2, 'kWh']])).toEqual(['ok', 'counter_reset']);
  });

  it('a meter swapped at 9300 kWh (9.3 × 10^6 Wh, just below 10^7): a reset on the raw value, and with a declared maximum', () => {
    expect(run(facts({ scale: 1, rawRange: 2 ** 32 }), [[9300, 'kWh'], [2, 'kWh']])).toEqual(['ok', 'counter_reset']);
    expect(run(facts({ max: 4_294_967_296_000 }), [[9300, 'kWh'], [2, 'kWh']])).toEqual(['ok', 'counter_reset']);
    expect(run(facts({ max: 655_360 }), [[650, 'kWh'], [3, 'kWh']])).toEqual(['ok', 'counter_rollover']);
  });
});

describe('options.commissioned', () => {
  const resolve = (options: string) => resolveSite({ config: config(options), profiles, profileProblems: [], drivers: DRIVERS });
  it('an ISO date or instant is a fact; anything else is a problem of the device, before anything runs', () => {
    expect(resolve('{ commissioned: "2024-03-01" }').ok).toBe(true);
    expect(resolve('{ commissioned: "2024-03-01T08:00:00+08:00" }').ok).toBe(true);
    for (const bad of ['"last spring"', '"03/01/2024"', '20240301']) {
      const r = resolve(`{ commissioned: ${bad} }`);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.problems.map((p) => `${p.path}: ${p.message}`).join('\n')).toMatch(/devices\[0\]\.options\.commissioned: .*is not a date/);
    }
  });
});
