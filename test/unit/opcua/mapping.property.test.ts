import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DT, toReading, type DataValueLike } from '../../../drivers/opcua/quality.js';
import { codeOf, unitFromEu, UNECE_URI } from '../../../drivers/opcua/units.js';
import { catalogUnitOf, isKnownUnit } from '../../../gateway/model/units.js';

/**
 * Whatever a server sends in a DataValue (any status code, NaN, ±Infinity, invalid dates,
 * 64-bit pairs, texts that name Object.prototype's members), the mapping never throws and a
 * reading is a finite value or bad quality with no value; engineering units resolve to a known
 * unit or to nothing.
 */

const hostile = fc.constantFrom('constructor', 'toString', '__proto__', 'valueOf', 'hasOwnProperty');
const value = fc.oneof(
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -1e308),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 10 }),
  hostile,
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.tuple(fc.integer(), fc.integer()),
  fc.date(),
  fc.constant(new Date(Number.NaN)),
  fc.record({ text: fc.oneof(fc.string({ maxLength: 6 }), hostile) }),
  fc.constant(null),
  fc.array(fc.double(), { maxLength: 3 }),
);
const dataValue: fc.Arbitrary<DataValueLike> = fc.record(
  {
    value: fc.oneof(fc.constant(null), fc.record({ dataType: fc.oneof(fc.constantFrom(...Object.values(DT)), fc.integer({ min: 0, max: 30 })), value })),
    statusCode: fc.oneof(fc.constant(null), fc.record({ value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 0x40900000, 0x808b0000, 0xc0000000)), name: fc.string({ maxLength: 12 }) })),
    sourceTimestamp: fc.oneof(fc.constant(null), fc.date(), fc.constant(new Date(Number.NaN)), fc.constant(new Date(Date.UTC(1601, 0, 1)))),
    serverTimestamp: fc.oneof(fc.constant(null), fc.date()),
  },
  { requiredKeys: [] },
);
const mapping = fc.record(
  {
    metric: fc.constant('power'),
    unit: fc.constantFrom('W', 'kW', 'Wh'),
    scale: fc.oneof(fc.double(), fc.constant(1e300)),
    offset: fc.double(),
    map: fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('true', 'false', '1', '0')), fc.oneof(fc.string({ maxLength: 4 }), fc.integer(), fc.boolean()), { maxKeys: 3 }),
  },
  { requiredKeys: ['metric'] },
);

describe('OPC UA value, quality and unit mapping under arbitrary input', () => {
  it('toReading: never throws; good or uncertain readings carry a finite, plain value', () => {
    fc.assert(
      fc.property(mapping, dataValue, (m, dv) => {
        const r = toReading('d', m, dv, 1_780_000_000_000);
        expect(Number.isFinite(r.ts)).toBe(true);
        if (r.quality === 'bad') {
          expect(r.value).toBeNull();
          expect(r.reason).toBeTruthy();
        } else if (typeof r.value === 'number') expect(Number.isFinite(r.value), `value ${r.value}`).toBe(true);
        else expect(['bigint', 'boolean', 'string'], String(r.value)).toContain(typeof r.value);
      }),
      { numRuns: 3000 },
    );
  });

  it('unitFromEu: a known unit or nothing, for any unitId, namespace and display text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constant(null),
          fc.record(
            {
              unitId: fc.oneof(fc.integer(), fc.integer({ min: 0, max: 0xffffff }), fc.double()),
              displayName: fc.oneof(fc.constant(null), fc.record({ text: fc.oneof(fc.constant(null), fc.string({ maxLength: 6 }), hostile) }, { requiredKeys: [] })),
              namespaceUri: fc.oneof(fc.constant(null), fc.constant(UNECE_URI), fc.string({ maxLength: 8 })),
            },
            { requiredKeys: [] },
          ),
        ),
        (eu) => {
          const u = unitFromEu(eu);
          if (u !== undefined) {
            expect(isKnownUnit(u), u).toBe(true);
            expect(catalogUnitOf(u), u).toBeDefined();
          }
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(fc.property(fc.integer(), (id) => {
        expect(codeOf(id).length).toBeLessThanOrEqual(3);
      }), { numRuns: 500 });
  });
});
