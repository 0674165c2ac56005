import type { DriverCheckInput, DriverProblem, PointFacts } from '../core/driver.js';
import { addressProblems, type BusConnection } from '../core/bus-config.js';
import { classProblems, mappingProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import { dlt645CommandProblems } from './commands.js';
import { pointFormat } from './device.js';
import type { Dlt645Profile } from './profile-schema.js';

/** What the DL/T 645 driver contributes to the one validation (gateway/site). */

/** Every identifier has a known format (the standard's table, or the profile's own) and maps a catalog metric in a unit that converts. */
export function checkDlt645Profile(p: Loaded<Dlt645Profile>): DriverProblem[] {
  const out = classProblems(p.classes);
  const seen = new Map<string, number>();
  p.points.forEach((pt, i) => {
    const path = ['points', i];
    const f = pointFormat(pt, p.edition);
    if ((p.edition === '2007') !== (pt.di.length === 8)) out.push({ path: [...path, 'di'], message: `a DL/T 645-${p.edition} identifier has ${p.edition === '2007' ? 8 : 4} hex digits` });
    else if (!f) out.push({ path: [...path, 'di'], message: `identifier ${pt.di} is not in the standard's table the driver knows: give its format (bytes, decimals, signed, unit)` });
    else out.push(...mappingProblems(p.classes, { metric: pt.metric, unit: f.unit }, path));
    if (pt.on_invert !== undefined && pt.on_invert !== 'negate') out.push(...mappingProblems(p.classes, { metric: pt.on_invert, unit: f?.unit }, [...path, 'on_invert']).map((q) => ({ ...q, path: [...path, 'on_invert'] })));
    const other = seen.get(pt.metric);
    if (other !== undefined) out.push({ path: [...path, 'metric'], message: `${pt.metric} is also read by points[${other}]` });
    else seen.set(pt.metric, i);
  });
  out.push(...dlt645CommandProblems(p));
  return out;
}

export function checkDlt645(input: DriverCheckInput<BusConnection, Loaded<Dlt645Profile>>): DriverProblem[] {
  return addressProblems(input.devices, 12);
}

/** Units of each metric, and where a BCD counter wraps (999999.99 kWh on a 4-byte field). */
export function dlt645PointFacts(p: Loaded<Dlt645Profile>): ReadonlyMap<string, PointFacts> {
  const out = new Map<string, PointFacts>();
  for (const pt of p.points) {
    const f = pointFormat(pt, p.edition);
    if (!f) continue;
    out.set(pt.metric, { unit: f.unit, scale: 10 ** -f.decimals * pt.scale, ...(f.signed ? {} : { rawRange: 10 ** (2 * f.bytes) }) });
  }
  return out;
}
