import { CATALOG, DEVICE_FACTS, metricDef } from '../../gateway/model/catalog.js';
import { catalogUnitOf, NATIVE_UNITS } from '../../gateway/model/units.js';
import { didYouMean } from '../../gateway/model/suggest.js';
import type { DriverProblem } from './driver.js';

/** How a profile entry maps a value onto the catalog (a Modbus point, an MQTT reading, an OPC UA node). */
export interface Mapping {
  metric: string;
  unit?: string | undefined;
  map?: Record<string, string | number | boolean> | undefined;
  /** The entry gives a boolean by itself (a bit of a word, a threshold). */
  boolean?: boolean;
}

/** The profile's classes exist in the catalog (paths from the profile root). */
export function classProblems(classes: readonly string[]): DriverProblem[] {
  const known = Object.keys(CATALOG);
  return classes.flatMap((c, i) => (CATALOG[c] ? [] : [{ path: ['classes', i], message: `unknown device class "${c}"${didYouMean(c, known)}` }]));
}

/**
 * One mapping against the catalog, for every class that reads it: the metric is a catalog metric
 * of that class, the native unit converts to its catalog unit, map values fit an enum or boolean.
 */
export function mappingProblems(classes: readonly string[], m: Mapping, path: (string | number)[]): DriverProblem[] {
  const out: DriverProblem[] = [];
  // A device fact (a nameplate rating) is not a series: it goes to the pipeline's plausibility
  // limits, never to the store; its unit must convert to the fact's.
  const fact = DEVICE_FACTS[m.metric];
  if (fact !== undefined) {
    const to = m.unit === undefined ? fact : catalogUnitOf(m.unit);
    return to === fact ? [] : [{ path: [...path, 'unit'], message: `unit "${m.unit}" does not convert to ${fact} (${m.metric} is a device fact)` }];
  }
  for (const cls of classes) {
    if (!CATALOG[cls]) continue;
    const def = metricDef(cls, m.metric);
    if (!def) {
      out.push({ path: [...path, 'metric'], message: `"${m.metric}" is not a metric of ${cls}${didYouMean(m.metric, Object.keys(CATALOG[cls]?.metrics ?? {}))}` });
      continue;
    }
    if (m.map) {
      for (const [raw, v] of Object.entries(m.map)) {
        if (def.unit === 'bool' && typeof v !== 'boolean') out.push({ path: [...path, 'map', raw], message: `${String(v)} is not a boolean (${m.metric} is on/off)` });
        else if (def.unit === 'enum' && !def.values?.includes(String(v))) out.push({ path: [...path, 'map', raw], message: `"${String(v)}" is not one of ${m.metric}'s values (${def.values?.join(', ')})` });
        else if (def.unit !== 'bool' && def.unit !== 'enum') out.push({ path: [...path, 'map'], message: `${m.metric} is a quantity (${def.unit}): a map gives names or booleans` });
      }
    } else if (m.boolean) {
      if (def.unit !== 'bool') out.push({ path, message: `a bit or threshold gives a boolean; ${m.metric} is ${def.unit}` });
    } else if (m.unit !== undefined) {
      const to = catalogUnitOf(m.unit);
      if (to === undefined) out.push({ path: [...path, 'unit'], message: `unknown unit "${m.unit}"${didYouMean(m.unit, NATIVE_UNITS)}` });
      else if (to !== def.unit) out.push({ path: [...path, 'unit'], message: `unit "${m.unit}" does not convert to ${def.unit} (${m.metric})` });
    }
    // Without a unit the value is taken as already in the catalog unit (enums and booleans need a map
    // only where the device sends codes; names and booleans may come as they are).
  }
  // The same problem for two classes is one problem.
  return out.filter((p, i) => out.findIndex((q) => q.message === p.message && q.path.join('.') === p.path.join('.')) === i);
}
