import type { DriverCheckInput, DriverProblem, PointFacts } from '../core/driver.js';
import { addressProblems, type BusConnection } from '../core/bus-config.js';
import { classProblems, mappingProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import { cjt188CommandProblems } from './control.js';
import { METER_TYPE } from './frame.js';
import { bodyKind, CJT188_FIELDS, type Cjt188Profile } from './profile-schema.js';

/** What the CJ/T 188 driver contributes to the one validation (gateway/site). */

/** Catalog units of the reply's fields (after conversion by the meter's unit code). */
const FIELD_UNITS: Readonly<Record<string, string | undefined>> = {
  volume_total: 'm³',
  volume_settlement: 'm³',
  heat_settlement: 'Wh',
  heat_total: 'Wh',
  thermal_power: 'W',
  flow: 'm³/h',
  supply_temp: '°C',
  return_temp: '°C',
  working_hours: 'h',
};

export function fieldUnit(field: string): string | undefined {
  return FIELD_UNITS[field];
}

export function checkCjt188Profile(p: Loaded<Cjt188Profile>): DriverProblem[] {
  const out = [...classProblems(p.classes), ...cjt188CommandProblems(p)];
  const kind = bodyKind(p.meter_type);
  if (!kind) {
    out.push({ path: ['meter_type'], message: `meter type ${p.meter_type} has no metering-data layout this driver reads (electricity meters speak DL/T 645)` });
    return out;
  }
  const fields: readonly string[] = CJT188_FIELDS[kind];
  p.points.forEach((pt, i) => {
    if (!fields.includes(pt.field)) out.push({ path: ['points', i, 'field'], message: `a ${kind} meter's reply has no field "${pt.field}" (it has ${fields.join(', ')})` });
    else {
      const unit = fieldUnit(pt.field);
      out.push(...mappingProblems(p.classes, { metric: pt.metric, unit, boolean: unit === undefined }, ['points', i]));
    }
  });
  return out;
}

export function checkCjt188(input: DriverCheckInput<BusConnection, Loaded<Cjt188Profile>>): DriverProblem[] {
  const out = addressProblems(input.devices, 14);
  for (const { index, config } of input.devices) {
    const t = config.options['meter_type'];
    if (t !== undefined && !(String(t) in METER_TYPE)) out.push({ path: ['devices', index, 'options', 'meter_type'], message: `unknown meter type "${String(t)}" (${Object.keys(METER_TYPE).join(', ')})` });
  }
  return out;
}

export function cjt188PointFacts(p: Loaded<Cjt188Profile>): ReadonlyMap<string, PointFacts> {
  return new Map(p.points.map((pt) => [pt.metric, fieldUnit(pt.field) !== undefined ? { unit: fieldUnit(pt.field) as string } : {}]));
}
