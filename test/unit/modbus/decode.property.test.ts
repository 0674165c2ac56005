import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, decodeWords, POINT_TYPES, WORD_ORDERS, wordsOf } from '../../../drivers/modbus/codecs.js';
import { decodeDevice, RegisterImage } from '../../../drivers/modbus/decode.js';
import { plainPoints, sunspecPoints, type Point } from '../../../drivers/modbus/points.js';
import type { ModbusProfile } from '../../../drivers/modbus/profile-schema.js';
import { MODEL_LENGTH } from '../../../simulators/servers/modbus-image.js';
import { PROFILES } from '../../integration/modbus/harness.js';

/**
 * Whatever words a device answers (noise, NaN and infinity patterns, SunSpec sentinels), decoding
 * never throws and every reading is either a finite value or bad quality with no value.
 */

const profiles = [...PROFILES.values()].filter((p) => p.protocol === 'modbus').map((p) => p as unknown as ModbusProfile);
const DEVICES = profiles.flatMap((p) =>
  p.classes.map((cls) => {
    const models = (p.sunspec?.models ?? []).flatMap((m) => m.ids.map((id) => ({ id, length: id === 160 ? 8 + 20 * 2 : MODEL_LENGTH[id] })));
    // Each model at its own base, so their points do not overlap.
    let base = 0;
    const found = models.filter((m): m is { id: number; length: number } => m.length !== undefined).map((m) => ({ id: m.id, address: (base += 200), length: m.length }));
    const pts = p.sunspec ? sunspecPoints(p, found, cls) : plainPoints(p, cls);
    return { name: `${p.id}/${cls}`, points: pts.points, derived: pts.derived };
  }),
);

// Float NaN/±Infinity halves, sentinels, extremes: the words a broken or hostile device sends.
const word = fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.constantFrom(0x7f80, 0xff80, 0x7fc0, 0x7ff0, 0xfff0, 0x7fff, 0x8000, 0xffff, 0x0000));

function fill(image: RegisterImage, points: readonly Point[], words: number[], ts: number): void {
  let k = 0;
  const next = () => words[k++ % words.length] ?? 0;
  for (const p of points) {
    image.set(p.fn, p.address, Array.from({ length: p.words }, next), ts);
    if (p.sf) image.set(p.sf.fn, p.sf.address, [next()], ts);
  }
}

describe('Modbus decode under arbitrary register words', () => {
  it('decodeWords: any type, order and word list gives a value or a CodecError, never another throw', () => {
    fc.assert(
      fc.property(fc.constantFrom(...POINT_TYPES), fc.constantFrom(...WORD_ORDERS), fc.array(word, { maxLength: 6 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (type, order, words, length, sentinel) => {
        try {
          const r = decodeWords(type, words, { order, length, sentinel });
          if (r.notImplemented) expect(r.value).toBeNull();
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
          expect(words.length).not.toBe(wordsOf(type, length));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('every profile and class: readings are finite or bad with no value', () => {
    expect(DEVICES.length).toBeGreaterThan(3);
    fc.assert(
      fc.property(fc.constantFrom(...DEVICES), fc.array(word, { minLength: 1, maxLength: 64 }), fc.boolean(), fc.dictionary(fc.constantFrom('volume_m3', 'reference_c'), fc.oneof(fc.double(), fc.integer())), (d, words, invert, options) => {
        const image = new RegisterImage();
        fill(image, d.points, words, 1_780_000_000_000);
        const readings = decodeDevice(d.points, d.derived, image, { device: 'dev', invert, options });
        for (const r of readings) {
          if (r.quality === 'bad') {
            expect(r.value, `${d.name} ${r.metric}`).toBeNull();
            expect(r.reason).toBeTruthy();
          } else if (typeof r.value === 'number') expect(Number.isFinite(r.value), `${d.name} ${r.metric} = ${r.value}`).toBe(true);
          else expect(['bigint', 'boolean', 'string'], `${d.name} ${r.metric}`).toContain(typeof r.value);
        }
      }),
      { numRuns: 1500 },
    );
  });
});
