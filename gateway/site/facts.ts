import type { PointFacts } from '../../drivers/core/driver.js';
import { commissionedOf } from '../model/commissioned.js';
import type { DeviceConfig } from '../config/schema.js';
import { metricDef, type CatalogUnit } from '../model/catalog.js';
import { catalogUnitOf, convert } from '../model/units.js';
import type { SeriesFacts } from './types.js';

/** A problem with a device option, as a path below the device and a message. */
export interface OptionProblem {
  key: string;
  message: string;
}

/**
 * The series facts of one device: the profile's point facts (through its driver) joined with
 * what the device declares. `counter_max` applies to every counter of the device, `<metric>_max`
 * to one; a number is in the unit the profile reports the metric in, a string may name its unit
 * ("65536 kWh").
 */
export function seriesFacts(device: DeviceConfig, points: ReadonlyMap<string, PointFacts>): { series: Map<string, SeriesFacts>; problems: OptionProblem[] } {
  const series = new Map<string, SeriesFacts>();
  const problems: OptionProblem[] = [];
  const invert = device.options['invert'] === true;
  for (const [metric, p] of points) {
    const def = metricDef(device.class, metric);
    if (!def) continue;
    const f: SeriesFacts = { catalogUnit: def.unit, invert };
    if (p.unit !== undefined && p.unit !== def.unit) f.unit = p.unit;
    if (p.scale !== undefined) f.scale = p.scale;
    if (p.rawRange !== undefined) f.rawRange = p.rawRange;
    if (def.kind === 'counter') {
      const key = device.options[`${metric}_max`] !== undefined ? `${metric}_max` : 'counter_max';
      const declared = device.options[key];
      if (declared !== undefined) {
        const max = counterMax(declared, p.unit ?? def.unit, def.unit as CatalogUnit);
        // `counter_max` applies to every counter: its problem is said once.
        if (typeof max === 'string') {
          if (!problems.some((p) => p.key === key && p.message === max)) problems.push({ key, message: max });
        }
        else f.counterMax = max;
      }
    }
    series.set(metric, f);
  }
  const c = device.options['commissioned'];
  if (c !== undefined && commissionedOf(device.options) === undefined)
    problems.push({ key: 'commissioned', message: `"${String(c)}" is not a date (use ISO-8601: 2024-03-01 or 2024-03-01T08:00:00+08:00)` });
  // A `<metric>_max` for a metric this device does not count is a typo worth saying.
  for (const key of Object.keys(device.options)) {
    const m = /^(.+)_max$/.exec(key);
    if (!m || key === 'counter_max' || key.startsWith('max_')) continue;
    const metric = m[1] as string;
    const def = metricDef(device.class, metric);
    if (def && def.kind !== 'counter') problems.push({ key, message: `${metric} is not a counter: only counters wrap` });
    else if (def && !series.has(metric)) problems.push({ key, message: `the profile gives this device no ${metric}` });
  }
  return { series, problems };
}

function counterMax(v: string | number | boolean, reported: string, catalog: CatalogUnit): SeriesFacts['counterMax'] | string {
  let value: number;
  let unit = reported;
  if (typeof v === 'number') value = v;
  else if (typeof v === 'string') {
    const m = /^\s*([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)\s*(\S+)?\s*$/i.exec(v);
    if (!m) return `"${v}" is not a number with an optional unit (e.g. 65536 or "65536 kWh")`;
    value = Number(m[1]);
    if (m[2] !== undefined) unit = m[2];
  } else return 'must be a number (in the unit the profile reports) or "<number> <unit>"';
  if (!(value > 0) || !Number.isFinite(value)) return `must be above 0, not ${String(v)}`;
  if (catalogUnitOf(unit) !== catalog) return `unit "${unit}" does not convert to ${catalog}`;
  const c = convert(value, unit, catalog);
  if (c === undefined) return `unit "${unit}" does not convert to ${catalog}`;
  return { value, unit, catalog: c };
}

/**
 * Where a counter series wraps, in catalog units, for the KPIs: the declared maximum, else the
 * register's range times its fixed scale (a uint16 in 0.01 kWh wraps at 655.36 kWh).
 */
export function wrapOf(f: SeriesFacts | undefined): number | undefined {
  if (!f) return undefined;
  if (f.counterMax) return f.counterMax.catalog;
  if (f.rawRange === undefined || f.scale === undefined || f.scale <= 0) return undefined;
  return convert(f.rawRange * f.scale, f.unit ?? f.catalogUnit, f.catalogUnit as CatalogUnit);
}
