import { CATALOG, type EventDef, type MetricDef } from '../../gateway/model/catalog.js';
import { catalogUnitOf } from '../../gateway/model/units.js';
import type { EventAttributes, Reading } from '../../gateway/model/types.js';
import type { Problem } from './envelope.js';
import { compilePath, getPath, matchText, type CompiledPath } from './json-path.js';
import type { Condition, EventMap, MqttProfile, ReadingMap, TimestampSpec } from './profile-schema.js';
import { passthroughEvents, passthroughValues } from './passthrough.js';
import { toAttribute, toMetricValue, toTimestamp, type Converted } from './values.js';

/**
 * A profile compiled for one device class: paths compiled, every metric, event, attribute and
 * unit checked against the catalog once. `decode` is then a pure, allocation-light function
 * from an unwrapped message to readings and events, or to the reason it was rejected.
 */

export class ProfileError extends Error {
  readonly code = 'MQTT_PROFILE_INVALID';
}

export interface MessageInput {
  data: unknown;
  meta: Record<string, unknown>;
  topicVars: Record<string, string>;
  envelopeTs?: number | undefined;
  receivedAt: number;
}

import type { Decoded } from './decoded.js';
export type { Decoded } from './decoded.js';

export type DecodeResult = { ok: true; value: Decoded } | { ok: false; problem: Problem };

type Getter = (data: unknown, input: MessageInput) => unknown;

function getter(path: string): Getter {
  if (path.startsWith('$topic.')) {
    const name = path.slice(7);
    return (_d, input) => input.topicVars[name];
  }
  if (path.startsWith('$meta.')) {
    const p = compilePath(path.slice(6));
    return (_d, input) => getPath(input.meta, p);
  }
  const p: CompiledPath = compilePath(path);
  return (d) => getPath(d, p);
}

type Test = (data: unknown, input: MessageInput) => boolean;

/** Fields that say which rule applies (`when` with `equals`/`in`): a value there must be a scalar. */
function selectorsOf(profile: MqttProfile): { path: string; get: Getter }[] {
  const paths = new Set<string>();
  for (const rule of [...profile.readings, ...profile.events]) {
    const when = rule.when === undefined ? [] : Array.isArray(rule.when) ? rule.when : [rule.when];
    for (const c of when) if (c.equals !== undefined || c.in !== undefined) paths.add(c.path);
  }
  return [...paths].map((path) => ({ path, get: getter(path) }));
}

function compileWhen(when: Condition | Condition[] | undefined): Test {
  if (!when) return () => true;
  const tests = (Array.isArray(when) ? when : [when]).map((c): Test => {
    const get = getter(c.path);
    return (d, input) => {
      const v = get(d, input);
      if (c.exists !== undefined && (v !== undefined && v !== null) !== c.exists) return false;
      if (c.equals !== undefined && matchText(v) !== String(c.equals)) return false;
      if (c.in !== undefined && !c.in.some((x) => String(x) === matchText(v))) return false;
      return c.exists !== undefined || c.equals !== undefined || c.in !== undefined ? true : v !== undefined;
    };
  });
  return (d, input) => tests.every((t) => t(d, input));
}

type TsGetter = (data: unknown, input: MessageInput) => Converted<number> | undefined;

function compileTs(spec: TimestampSpec | TimestampSpec[] | undefined): TsGetter | undefined {
  if (!spec) return undefined;
  const specs = (Array.isArray(spec) ? spec : [spec]).map((s) => ({ s, get: getter(s.path) }));
  return (d, input) => {
    for (const { s, get } of specs) {
      const raw = get(d, input);
      if (raw !== undefined && raw !== null) return toTimestamp(raw, s.format, s.path);
    }
    return undefined;
  };
}

interface CompiledReading {
  rule: ReadingMap;
  def: MetricDef;
  value: Getter;
  unit: Getter | undefined;
  each: Getter | undefined;
  ts: TsGetter | undefined;
  when: Test;
}

interface CompiledEvent {
  rule: EventMap;
  when: Test;
  ts: TsGetter | undefined;
  attrs: {
    name: string;
    def: EventDef['attributes'][string];
    get?: Getter;
    map?: Record<string, string | number | boolean> | undefined;
    value?: string | number | boolean | undefined;
  }[];
}

export interface Decoder {
  readonly profileId: string;
  readonly cls: string;
  decode(device: string, input: MessageInput): DecodeResult;
}

export function compileDecoder(profile: MqttProfile, cls: string): Decoder {
  const problems: string[] = [];
  const classDef = CATALOG[cls];
  if (!classDef) throw new ProfileError(`profile ${profile.id}: unknown class "${cls}"`);

  const readings: CompiledReading[] = [];
  profile.readings.forEach((r, i) => {
    const def = classDef.metrics[r.metric];
    if (!def) return problems.push(`readings[${i}]: "${r.metric}" is not a metric of ${cls}`);
    if (r.unit !== undefined && catalogUnitOf(r.unit) !== def.unit)
      problems.push(`readings[${i}]: unit "${r.unit}" does not convert to ${def.unit} (${r.metric})`);
    try {
      readings.push({
        rule: r,
        def,
        value: getter(r.path),
        unit: r.unit_path ? getter(r.unit_path) : undefined,
        each: r.each ? getter(r.each) : undefined,
        ts: compileTs(r.timestamp),
        when: compileWhen(r.when),
      });
    } catch (err) {
      problems.push(`readings[${i}]: ${(err as Error).message}`);
    }
  });

  const events: CompiledEvent[] = [];
  profile.events.forEach((e, i) => {
    const def = classDef.events[e.type];
    if (!def) return problems.push(`events[${i}]: "${e.type}" is not an event of ${cls}`);
    for (const name of Object.keys(e.attributes))
      if (!def.attributes[name]) problems.push(`events[${i}]: "${name}" is not an attribute of ${e.type}`);
    const attrs: CompiledEvent['attrs'] = [];
    for (const [name, adef] of Object.entries(def.attributes)) {
      const m = e.attributes[name];
      if (!m) {
        if (!adef.optional) problems.push(`events[${i}]: ${e.type} needs attribute "${name}"`);
        continue;
      }
      attrs.push('value' in m ? { name, def: adef, value: m.value } : { name, def: adef, get: getter(m.path), map: m.map, value: m.default });
    }
    events.push({ rule: e, when: compileWhen(e.when), ts: compileTs(e.timestamp), attrs });
  });

  if (problems.length) throw new ProfileError(`profile ${profile.id}: ${problems.join('; ')}`);

  const msgTs = compileTs(profile.timestamp);
  const selectors = selectorsOf(profile);
  const passValues = profile.passthrough?.values !== undefined ? getter(profile.passthrough.values) : undefined;
  const passEvents = profile.passthrough?.events !== undefined ? getter(profile.passthrough.events) : undefined;

  return {
    profileId: profile.id,
    cls,
    decode(device, input) {
      const { data } = input;
      let ts = input.envelopeTs ?? input.receivedAt;
      let hasSourceTs = input.envelopeTs !== undefined;
      const t = msgTs?.(data, input);
      if (t) {
        if (!t.ok) return t;
        ts = t.value;
        hasSourceTs = true;
      }
      const out: Decoded = { ts, hasSourceTs, readings: [], events: [] };

      for (const r of readings) {
        if (!r.when(data, input)) continue;
        if (r.each) {
          const arr = r.each(data, input);
          if (!Array.isArray(arr)) {
            if (arr === undefined && !r.rule.required) continue;
            return fail(arr === undefined ? 'missing_field' : 'wrong_type', `${r.rule.each}: expected an array`);
          }
          for (const el of arr) {
            const p = pushReading(out, device, r, el, input, ts);
            if (p) return p;
          }
        } else {
          const p = pushReading(out, device, r, data, input, ts);
          if (p) return p;
        }
      }

      for (const e of events) {
        if (!e.when(data, input)) continue;
        let ets = ts;
        const et = e.ts?.(data, input);
        if (et) {
          if (!et.ok) return et;
          ets = et.value;
        }
        const attributes: EventAttributes = {};
        for (const a of e.attrs) {
          const raw = (a.get ? a.get(data, input) : undefined) ?? a.value;
          if (raw === undefined || raw === null) {
            if (a.def.optional) continue;
            return fail('missing_field', `${e.rule.type}.${a.name} is missing`);
          }
          const v = toAttribute(raw, a.def, a.map, `${e.rule.type}.${a.name}`);
          if (!v.ok) return v;
          attributes[a.name] = v.value;
        }
        out.events.push({ device, type: e.rule.type, ts: ets, attributes });
      }

      if (passValues) {
        const p = passthroughValues(out, device, cls, passValues(data, input), ts);
        if (p) return p;
      }
      if (passEvents) {
        const p = passthroughEvents(out, device, cls, passEvents(data, input), ts);
        if (p) return p;
      }
      if (out.readings.length === 0 && out.events.length === 0) {
        // No rule applied because the field that selects one is an object or an array.
        for (const sel of selectors) {
          const v = sel.get(data, input);
          if (v !== null && typeof v === 'object') return fail('wrong_type', `${sel.path}: expected a string or number, got ${Array.isArray(v) ? 'array' : 'object'}`);
        }
        return fail('no_match', `nothing in the message maps to profile ${profile.id}`);
      }
      return { ok: true, value: out };
    },
  };
}

function fail(reason: string, detail: string): { ok: false; problem: Problem } {
  return { ok: false, problem: { reason, detail } };
}

function pushReading(out: Decoded, device: string, r: CompiledReading, scope: unknown, input: MessageInput, msgTs: number) {
  const raw = r.value(scope, input);
  if (raw === undefined || raw === null) return r.rule.required ? fail('missing_field', `${r.rule.path} is missing`) : undefined;
  const v = toMetricValue(raw, r.rule, r.def, r.rule.metric);
  if (!v.ok) return v;
  let ts = msgTs;
  const t = r.ts?.(scope, input);
  if (t) {
    if (!t.ok) return t;
    ts = t.value;
  }
  const reading: Reading = { device, metric: r.rule.metric, value: v.value, ts };
  const unit = r.unit ? r.unit(scope, input) : undefined;
  if (typeof unit === 'string') {
    if (catalogUnitOf(unit) !== r.def.unit) return fail('unit_mismatch', `${r.rule.metric}: unit "${unit}" does not convert to ${r.def.unit}`);
    reading.unit = unit;
  } else if (r.rule.unit !== undefined) reading.unit = r.rule.unit;
  out.readings.push(reading);
  return undefined;
}
