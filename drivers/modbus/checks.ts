import { modbusCommandProblems } from './commands.js';
import { CATALOG, metricDef } from '../../gateway/model/catalog.js';
import type { DriverCheckInput, DriverProblem, PointFacts } from '../core/driver.js';
import { classProblems, mappingProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import type { ModbusConnection } from './connection-schema.js';
import { plainPoints, resolvePlain, type Point } from './points.js';
import type { ModbusProfile } from './profile-schema.js';

/**
 * What the Modbus driver contributes to the one validation (gateway/site): checks of a profile
 * beyond its schema, checks across its connections and devices, and the facts a profile declares
 * about each series (unit, fixed scale, the register's range) for the pipeline and the KPIs.
 */

const RANGE: Partial<Record<Point['type'], number>> = { uint16: 2 ** 16, acc16: 2 ** 16, uint32: 2 ** 32, acc32: 2 ** 32, uint64: 2 ** 64, acc64: 2 ** 64 };

/** Catalog metrics and units of every point, for every class that reads it; no two points on one register unless declared. */
export function checkModbusProfile(p: Loaded<ModbusProfile>): DriverProblem[] {
  const out = classProblems(p.classes);
  p.points.forEach((pt, i) => {
    const path = ['points', i];
    if (pt.class !== undefined && !p.classes.includes(pt.class)) {
      out.push({ path: [...path, 'class'], message: `class ${pt.class} is not one of the profile's (${p.classes.join(', ')})` });
      return;
    }
    out.push(...pointProblems(pt.class ? [pt.class] : p.classes, pt, path));
  });
  p.sunspec?.models.forEach((m, mi) => {
    if (!p.classes.includes(m.class)) out.push({ path: ['sunspec', 'models', mi, 'class'], message: `class ${m.class} is not one of the profile's (${p.classes.join(', ')})` });
    else m.points.forEach((pt, i) => out.push(...pointProblems([m.class], pt, ['sunspec', 'models', mi, 'points', i])));
  });
  p.derived.forEach((d, i) => {
    for (const cls of d.class ? [d.class] : p.classes) if (CATALOG[cls] && !metricDef(cls, d.metric)) out.push({ path: ['derived', i, 'metric'], message: `"${d.metric}" is not a metric of ${cls}` });
  });
  for (const cls of p.classes) out.push(...overlaps(p, cls));
  out.push(...modbusCommandProblems(p));
  return dedupe(out);
}

function pointProblems(classes: readonly string[], pt: { metric: string; unit?: string | undefined; map?: Record<string, string | number | boolean> | undefined; bit?: number | undefined; below?: number | undefined }, path: (string | number)[]): DriverProblem[] {
  const out = mappingProblems(classes, { metric: pt.metric, unit: pt.unit, map: pt.map, boolean: pt.bit !== undefined || pt.below !== undefined }, path);
  // A register holds a number: a name or on/off needs a map (or a bit or threshold).
  for (const cls of classes) {
    const def = metricDef(cls, pt.metric);
    if (def && (def.unit === 'enum' || def.unit === 'bool') && !pt.map && pt.bit === undefined && pt.below === undefined)
      out.push({ path, message: `${pt.metric} is ${def.unit === 'enum' ? 'a name' : 'on/off'}: a register needs a map${def.unit === 'bool' ? ', bit or below' : ''}` });
  }
  return out;
}

/** Two points of one class on one register (bits of one word excepted), unless one declares `overlap: true`. */
function overlaps(p: Loaded<ModbusProfile>, cls: string): DriverProblem[] {
  const out: DriverProblem[] = [];
  const owner = new Map<string, { index: number; point: Point }>();
  p.points.forEach((raw, index) => {
    if (raw.class !== undefined && raw.class !== cls) return;
    const point = resolvePlain(p, raw);
    for (let w = 0; w < point.words; w++) {
      const key = `${point.fn}:${point.address + w}`;
      const o = owner.get(key);
      const bits = o?.point.bit !== undefined && point.bit !== undefined;
      if (o && !bits && !raw.overlap && !p.points[o.index]?.overlap) {
        out.push({ path: ['points', index, 'address'], message: `${point.metric} overlaps ${o.point.metric} (points[${o.index}]) at ${point.fn} register ${point.address + w}; declare overlap: true if that is meant` });
        break;
      }
      owner.set(key, { index, point });
    }
  });
  return out;
}

function dedupe(list: DriverProblem[]): DriverProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.path.join('.')}\u0000${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Across Modbus connections and devices: one connection per TCP endpoint; every device has a unit id. */
export function checkModbus(input: DriverCheckInput<ModbusConnection, Loaded<ModbusProfile>>): DriverProblem[] {
  const out: DriverProblem[] = [];
  // A device that accepts one TCP connection is broken by a second one: one connection per endpoint.
  const endpoints = new Map<string, string>();
  for (const { index, connection: c } of input.connections) {
    if (c.protocol === 'modbus-rtu') continue;
    const key = `${c.host}:${c.port}`;
    const other = endpoints.get(key);
    if (other) out.push({ path: ['connections', index, 'host'], message: `${key} is already opened by connection "${other}"; put both devices on one connection` });
    endpoints.set(key, c.id);
  }
  for (const { index, config: d } of input.devices) {
    if (d.unit === undefined) out.push({ path: ['devices', index, 'unit'], message: 'a Modbus device needs a unit id' });
  }
  return out;
}

/** Unit, fixed scale and register range of each metric a device of `cls` reads (SunSpec points: unit only, scale comes from the device). */
export function modbusPointFacts(p: Loaded<ModbusProfile>, cls: string): ReadonlyMap<string, PointFacts> {
  const out = new Map<string, PointFacts>();
  for (const pt of plainPoints(p, cls).points) {
    const f: PointFacts = {};
    if (pt.unit !== undefined) f.unit = pt.unit;
    if (!pt.sf && pt.add === 0) f.scale = pt.scale;
    const range = RANGE[pt.type];
    if (range !== undefined && !pt.sf && pt.add === 0) f.rawRange = range;
    out.set(pt.metric, f);
  }
  for (const m of p.sunspec?.models ?? []) {
    if (m.class !== cls) continue;
    for (const pt of m.points) if (!out.has(pt.metric) && pt.unit !== undefined) out.set(pt.metric, { unit: pt.unit });
  }
  return out;
}
