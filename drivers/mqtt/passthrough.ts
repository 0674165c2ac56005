import { CATALOG } from '../../gateway/model/catalog.js';
import type { EventAttributes } from '../../gateway/model/types.js';
import type { Decoded } from './decoded.js';
import type { Problem } from './envelope.js';
import { toAttribute, toMetricValue, toTimestamp } from './values.js';

const fail = (reason: string, detail: string): { ok: false; problem: Problem } => ({ ok: false, problem: { reason, detail } });

/** Generic JSON (`passthrough`): catalog metric and event names as the device sends them, checked against the class. */
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function passthroughValues(out: Decoded, device: string, cls: string, values: unknown, ts: number) {
  if (values === undefined) return undefined;
  if (!isObject(values)) return fail('wrong_type', 'values: expected an object of metric → value');
  const metrics = CATALOG[cls]?.metrics ?? {};
  for (const [metric, raw] of Object.entries(values)) {
    // Own names only: "constructor" or "toString" must not find Object.prototype's.
    const def = Object.hasOwn(metrics, metric) ? metrics[metric] : undefined;
    if (!def) return fail('unknown_metric', `"${metric.slice(0, 40)}" is not a metric of ${cls}`);
    const v = toMetricValue(raw, {}, def, metric);
    if (!v.ok) return v;
    out.readings.push({ device, metric, value: v.value, ts });
  }
  return undefined;
}

export function passthroughEvents(out: Decoded, device: string, cls: string, list: unknown, ts: number) {
  if (list === undefined) return undefined;
  if (!Array.isArray(list)) return fail('wrong_type', 'events: expected an array');
  const defs = CATALOG[cls]?.events ?? {};
  for (const e of list) {
    if (!isObject(e) || typeof e['type'] !== 'string') return fail('wrong_type', 'events[]: expected {type, attributes}');
    const def = Object.hasOwn(defs, e['type']) ? defs[e['type']] : undefined;
    if (!def) return fail('unknown_event', `"${e['type'].slice(0, 40)}" is not an event of ${cls}`);
    let ets = ts;
    if (e['ts'] !== undefined) {
      const t = toTimestamp(e['ts'], 'auto', `${e['type']}.ts`);
      if (!t.ok) return t;
      ets = t.value;
    }
    const given = isObject(e['attributes']) ? e['attributes'] : {};
    const attributes: EventAttributes = {};
    for (const [name, adef] of Object.entries(def.attributes)) {
      const raw = given[name];
      if (raw === undefined || raw === null) {
        if (adef.optional) continue;
        return fail('missing_field', `${e['type']}.${name} is missing`);
      }
      const v = toAttribute(raw, adef, undefined, `${e['type']}.${name}`);
      if (!v.ok) return v;
      attributes[name] = v.value;
    }
    out.events.push({ device, type: e['type'], ts: ets, attributes });
  }
  return undefined;
}
