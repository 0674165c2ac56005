import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG, CATALOG_UNITS, PII_ATTRIBUTE_NAMES } from '../../../gateway/model/catalog.js';
import { catalogUnitOf, convert, NATIVE_UNITS } from '../../../gateway/model/units.js';

const entries = Object.entries(CATALOG).flatMap(([cls, c]) => Object.entries(c.metrics).map(([m, d]) => [cls, m, d] as const));

describe('metric catalog', () => {
  it.each(entries)('%s.%s is well formed', (_cls, metric, def) => {
    expect(metric).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(CATALOG_UNITS).toContain(def.unit);
    expect(['gauge', 'counter', 'state']).toContain(def.kind);
    if (def.kind === 'counter') expect(['Wh', 'm³']).toContain(def.unit);
    if (def.kind === 'state') expect(['bool', 'enum']).toContain(def.unit);
    if (def.unit === 'enum') expect(def.values?.length).toBeGreaterThan(1);
    if (def.min !== undefined && def.max !== undefined) expect(def.min).toBeLessThan(def.max);
  });

  it('no event type or attribute of a class is named like one of its metrics (one InfluxDB measurement holds both)', () => {
    // A collision mixes events into the metric's series at the sinks, and an event at a sample's
    // timestamp overwrites its value (found when the departure event carried `delay`).
    const clashes = Object.entries(CATALOG).flatMap(([cls, d]) =>
      Object.entries(d.events).flatMap(([type, e]) => [type, ...Object.keys(e.attributes ?? {})].filter((n) => n in d.metrics).map((n) => `${cls}.${type}.${n}`)),
    );
    expect(clashes).toEqual([]);
  });

  it('gives the reason for every class beyond the spec', () => {
    const beyond = Object.entries(CATALOG).filter(([, d]) => d.beyondSpec !== undefined);
    // heat_meter was the last one; spec/metrics.md took it in. A new one must give its reason.
    for (const [, d] of beyond) expect(d.beyondSpec?.length).toBeGreaterThan(20);
    for (const e of Object.values(CATALOG).flatMap((c) => Object.values(c.events))) if (e.beyondSpec !== undefined) expect(e.beyondSpec.length).toBeGreaterThan(20);
  });

  it('marks every personal attribute', () => {
    expect([...PII_ATTRIBUTE_NAMES].sort()).toEqual(['credential', 'parcel', 'vehicle']);
  });

  it('has the classes of spec/metrics.md, besides the proposed ones', () => {
    expect(Object.entries(CATALOG).filter(([, d]) => d.beyondSpec === undefined).map(([c]) => c).sort()).toEqual(
      ['access_door', 'battery', 'ev_charger', 'grid_meter', 'heat_meter', 'heat_pump', 'parcel_locker', 'parking_garage', 'parking_space', 'pv_inverter', 'thermal_storage', 'water_meter'],
    );
    expect(Object.entries(CATALOG).filter(([, d]) => d.beyondSpec !== undefined).map(([c]) => c).sort()).toEqual(['transit_stop']);
  });

  // The spec is the product's source of truth; where it sits beside the repository (CI, the team), compare.
  const spec = join(import.meta.dirname, '../../../../shared/spec/metrics.md');
  it.runIf(existsSync(spec))('agrees with every metric row and event row of spec/metrics.md', () => {
    const text = readFileSync(spec, 'utf8');
    const sections = text.split(/^### /m).slice(1);
    const checked = new Set<string>();
    for (const sec of sections) {
      const cls = (sec.split(/\s/)[0] ?? '').trim();
      const def = CATALOG[cls];
      expect(def, `class ${cls}`).toBeDefined();
      for (const line of sec.split('\n')) {
        const cells = line.split('|').map((c) => c.trim());
        const first = cells[1];
        if (!first || !first.startsWith('`')) continue;
        const names = [...first.matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string);
        const kind = cells[2];
        for (const n of names) {
          if (kind === 'gauge' || kind === 'counter' || kind === 'state') {
            expect(def?.metrics[n]?.kind, `${cls}.${n}`).toBe(kind);
            const unit = cells[3];
            const want = unit === 'count' ? 'count' : unit;
            expect(def?.metrics[n]?.unit, `${cls}.${n} unit`).toBe(want);
          } else {
            expect(def?.events[n], `${cls} event ${n}`).toBeDefined();
          }
          checked.add(`${cls}.${n}`);
        }
      }
    }
    // has_charger is static config data, listed in the spec; every catalog entry must appear there,
    // except a class marked beyondSpec (a proposal the spec has not taken in yet), which must not.
    const specClasses = new Set(sections.map((sec) => (sec.split(/\s/)[0] ?? '').trim()));
    const beyond = Object.entries(CATALOG).filter(([, d]) => d.beyondSpec !== undefined).map(([c]) => c);
    expect(beyond.filter((c) => specClasses.has(c)), 'a beyondSpec class the spec now lists: drop the mark').toEqual([]);
    const all = Object.entries(CATALOG)
      .filter(([, d]) => d.beyondSpec === undefined)
      .flatMap(([c, d]) => [...Object.keys(d.metrics), ...Object.entries(d.events).filter(([, e]) => e.beyondSpec === undefined).map(([n]) => n)].map((n) => `${c}.${n}`));
    expect(all.filter((n) => !checked.has(n))).toEqual([]);
  });
});

describe('units', () => {
  it.each([
    [2.5, 'kW', 'W', 2500],
    [1.2, 'kWh', 'Wh', 1200],
    [3.6, 'MJ', 'Wh', 1000],
    [1500, 'L', 'm³', 1.5],
    [30, 'L/min', 'm³/h', 1.8],
    [293.15, 'K', '°C', 20],
    [212, '°F', '°C', 100],
    [0.5, 'ratio', '%', 50],
  ] as const)('%d %s → %s', (v, from, to, want) => expect(convert(v, from, to)).toBeCloseTo(want, 9));

  it('refuses incompatible units', () => expect(convert(1, 'kWh', '°C')).toBeUndefined());
  it('maps every native unit onto a catalog unit', () => {
    for (const u of NATIVE_UNITS) expect(CATALOG_UNITS).toContain(catalogUnitOf(u));
  });
});
