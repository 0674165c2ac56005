import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODECS } from '../../../drivers/mqtt/codecs/index.js';
import { compileDecoder, type DecodeResult } from '../../../drivers/mqtt/decode.js';
import type { EnvelopeKind } from '../../../drivers/mqtt/envelope.js';
import { mqttDriverFactory } from '../../../drivers/mqtt/index.js';
import { compilePath, getPath, JsonPathError } from '../../../drivers/mqtt/json-path.js';
import { decodeInput, prepare, type Prepared } from '../../../drivers/mqtt/message.js';
import { compileTopic, expandTemplate, toSlug } from '../../../drivers/mqtt/topic.js';
import { asMqttProfile, codecOf } from '../../../drivers/mqtt/runtime.js';
import { toMetricValue, toTimestamp } from '../../../drivers/mqtt/values.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';
import { CATALOG } from '../../../gateway/model/catalog.js';

/**
 * Whatever arrives on a topic (any bytes, any JSON, any envelope shape with hostile keys), the
 * MQTT decode path never throws: the outcome is a refusal with a reason, or readings whose
 * values are finite numbers, booleans or catalog enum strings, at plausible times.
 */

const PROFILES = [...loadProfiles([mqttDriverFactory]).profiles.values()].filter((p) => p.protocol === 'mqtt').map(asMqttProfile);
const KINDS: EnvelopeKind[] = ['json', 'chirpstack', 'ttn'];
const READERS = PROFILES.flatMap((profile) =>
  profile.classes.flatMap((cls) =>
    KINDS.map((envelope) => ({ profile, cls, envelope, codec: codecOf(profile), decoder: compileDecoder(profile, cls) })),
  ),
);

/** Keys that break naive code: prototype names, toString/valueOf that are not functions. */
const hostileKey = fc.constantFrom('__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'length', 'prototype');
const leaf = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 64, -0, 0, 1, true, false, null, '', 'NaN', 'Infinity', '1e999', '0x10'),
  fc.string({ maxLength: 12 }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);
const key = fc.oneof(hostileKey, fc.constantFrom('ts', 'values', 'events', 'type', 'attributes', 'occupied', 'power', 'plate', 'data', 'fPort', 'object', 'time'), fc.string({ maxLength: 8 }));
const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('json'), { maxLength: 4 }),
    fc.dictionary(key, tie('json'), { maxKeys: 5 }),
  ),
}));
// Catalog names as keys, so messages reach the value and event checks, not only "unknown metric".
const catalogKey = fc.constantFrom(...new Set(Object.values(CATALOG).flatMap((c) => [...Object.keys(c.metrics), ...Object.keys(c.events)])));
const valuesObject = fc.dictionary(fc.oneof(catalogKey, hostileKey), leaf, { maxKeys: 4 });
const eventList = fc.array(fc.record({ type: fc.oneof(catalogKey, hostileKey), ts: leaf, attributes: fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), hostileKey), leaf, { maxKeys: 3 }) }, { requiredKeys: ['type'] }), { maxLength: 3 });
const plain = fc.record({ ts: leaf, values: fc.oneof(valuesObject, json), events: fc.oneof(eventList, json) }, { requiredKeys: [] });
const b64 = fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64'));
const chirpstack = fc.record(
  {
    time: leaf,
    fPort: fc.oneof(fc.integer({ min: -1, max: 256 }), leaf),
    fCnt: leaf,
    data: fc.oneof(b64, leaf),
    object: fc.oneof(json, valuesObject),
    deviceInfo: fc.oneof(fc.record({ devEui: fc.oneof(fc.stringMatching(/^[0-9a-f]{16}$/), leaf), deviceName: leaf, applicationId: leaf, tags: fc.oneof(json, fc.dictionary(key, leaf)) }, { requiredKeys: [] }), json),
  },
  { requiredKeys: [] },
);
const ttn = fc.record(
  {
    received_at: leaf,
    end_device_ids: fc.oneof(fc.record({ device_id: leaf, dev_eui: leaf, application_ids: fc.oneof(json, fc.record({ application_id: leaf })) }, { requiredKeys: [] }), json),
    uplink_message: fc.oneof(fc.record({ f_port: fc.oneof(fc.integer({ min: 0, max: 256 }), leaf), f_cnt: leaf, frm_payload: fc.oneof(b64, leaf), decoded_payload: fc.oneof(json, valuesObject), received_at: leaf }, { requiredKeys: [] }), json),
    attributes: json,
  },
  { requiredKeys: [] },
);
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
  fc.oneof(json, plain, chirpstack, ttn).map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
);

function checkOutcome(p: Prepared, d: DecodeResult | undefined): void {
  if (!p.ok) {
    expect(typeof p.problem.reason).toBe('string');
    expect(p.problem.reason.length).toBeGreaterThan(0);
    return;
  }
  if (!d) return;
  if (!d.ok) {
    expect(d.problem.reason.length).toBeGreaterThan(0);
    return;
  }
  for (const r of d.value.readings) {
    expect(Number.isFinite(r.ts), `ts of ${r.metric}`).toBe(true);
    if (typeof r.value === 'number') expect(Number.isFinite(r.value), `${r.metric} = ${r.value}`).toBe(true);
    else expect(['boolean', 'string'].includes(typeof r.value) || r.value === null, `${r.metric}: ${typeof r.value}`).toBe(true);
    expect(Object.values(CATALOG).some((c) => Object.hasOwn(c.metrics, r.metric)), `metric ${r.metric} is in the catalog`).toBe(true);
  }
  for (const e of d.value.events) {
    expect(Number.isFinite(e.ts)).toBe(true);
    expect(Object.values(CATALOG).some((c) => Object.hasOwn(c.events, e.type)), `event ${e.type}`).toBe(true);
  }
}

describe('MQTT decode path under arbitrary input', () => {
  it('prepare + decode never throw, for every profile, class and envelope', () => {
    fc.assert(
      fc.property(fc.constantFrom(...READERS), payload, fc.dictionary(fc.constantFrom('device', 'app', 'controller', 'door'), fc.string({ maxLength: 8 })), (r, buf, topicVars) => {
        const p = prepare({ profile: r.profile, envelope: r.envelope, codec: r.codec }, buf);
        const d = p.ok ? r.decoder.decode('dev-1', decodeInput(p.unwrapped, topicVars, 1_780_000_000_000)) : undefined;
        checkOutcome(p, d);
      }),
      { numRuns: 3000 },
    );
  });

  it('passthrough JSON (generic-json): names of Object.prototype are neither metrics nor events', () => {
    const generic = READERS.filter((r) => r.profile.passthrough !== undefined && r.envelope === 'json');
    expect(generic.length).toBeGreaterThan(0);
    const body = fc.oneof(
      fc.record({ values: fc.dictionary(fc.oneof(hostileKey, catalogKey), fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()), { minKeys: 1, maxKeys: 3 }) }),
      fc.record({ events: fc.array(fc.record({ type: fc.oneof(hostileKey, catalogKey), attributes: fc.dictionary(fc.string({ maxLength: 6 }), leaf, { maxKeys: 2 }) }), { minLength: 1, maxLength: 2 }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...generic), body, (r, msg) => {
        const p = prepare({ profile: r.profile, envelope: r.envelope, codec: r.codec }, Buffer.from(JSON.stringify(msg)));
        const d = p.ok ? r.decoder.decode('dev-1', decodeInput(p.unwrapped, { device: 'dev-1' }, 1_780_000_000_000)) : undefined;
        checkOutcome(p, d);
      }),
      { numRuns: 1000 },
    );
  });

  it('every payload codec: any bytes on any port give data or errors, never a throw, never a non-finite number', () => {
    const finite = (v: unknown): boolean =>
      typeof v === 'number' ? Number.isFinite(v) : Array.isArray(v) ? v.every(finite) : v !== null && typeof v === 'object' ? Object.values(v).every(finite) : true;
    fc.assert(
      fc.property(fc.constantFrom(...CODECS.values()), fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ minLength: 51, maxLength: 51 })), fc.integer({ min: -1, max: 256 }), (codec, bytes, fPort) => {
        const out = codec.decodeUplink({ bytes, fPort });
        expect(Boolean(out.errors?.length) !== Boolean(out.data)).toBe(true);
        if (out.data) expect(finite(out.data)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('topics and ids: any topic matches a profile template or not, without throwing; ids from any payload field are slugs', () => {
    const templates = [...new Set(PROFILES.flatMap((p) => (p.topic ? [p.topic] : [])))].map((t) => compileTopic(t));
    const level = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('+', '#', '$SYS', '', 'devices', 'up', 'application', 'device', 'event', '__proto__'));
    fc.assert(
      fc.property(fc.constantFrom(...templates), fc.array(level, { minLength: 1, maxLength: 8 }), (t, levels) => {
        const vars = t.match(levels.join('/'));
        if (vars && levels[0]?.startsWith('$')) expect(t.exact || !t.filter.startsWith('+')).toBe(true);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), json, (tpl, meta) => {
        const id = expandTemplate(`dev-{x}-${tpl.replace(/[{}]/g, '')}`, () => meta);
        if (id !== undefined) expect(toSlug(id)).toMatch(/^([a-z0-9][a-z0-9._-]{0,63})?$/);
      }),
      { numRuns: 1000 },
    );
  });

  it('json paths: any text compiles or is refused with JsonPathError; evaluation never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), json, (path, value) => {
        let compiled;
        try {
          compiled = compilePath(path);
        } catch (err) {
          expect(err).toBeInstanceOf(JsonPathError);
          return;
        }
        getPath(value, compiled);
      }),
      { numRuns: 1000 },
    );
    // Selector paths over elements with hostile fields (a toString that is not a function).
    fc.assert(
      fc.property(fc.array(fc.dictionary(key, json, { maxKeys: 3 }), { maxLength: 4 }), fc.constantFrom('a[?toString=x].b', 'a[?valueOf=1]', 'a[?k=v].toString', 'a[0].__proto__'), (arr, path) => {
        getPath({ a: arr }, compilePath(path));
      }),
      { numRuns: 500 },
    );
  });

  it('value and timestamp conversions: ok means finite and plausible', () => {
    const metricDefs = Object.values(CATALOG).flatMap((c) => Object.values(c.metrics));
    fc.assert(
      fc.property(fc.constantFrom(...metricDefs), json, fc.record({ scale: fc.oneof(fc.double(), fc.constant(1e300)), offset: fc.double(), numeric_string: fc.boolean(), map: fc.dictionary(key, fc.oneof(fc.string(), fc.double(), fc.boolean()), { maxKeys: 3 }) }, { requiredKeys: [] }), (def, raw, rule) => {
        const v = toMetricValue(raw, rule, def, 'x');
        if (v.ok && typeof v.value === 'number') expect(Number.isFinite(v.value)).toBe(true);
        if (!v.ok) expect(v.problem.reason.length).toBeGreaterThan(0);
      }),
      { numRuns: 1500 },
    );
    fc.assert(
      fc.property(json, fc.constantFrom('auto', 'epoch_ms', 'epoch_s', 'iso') as fc.Arbitrary<'auto'>, (raw, format) => {
        const t = toTimestamp(raw, format, 'ts');
        if (t.ok) expect(t.value >= 946_684_800_000 && t.value <= 4_102_444_800_000).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
