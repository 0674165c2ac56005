import type { DriverCheckInput, DriverProblem } from '../core/driver.js';
import { classProblems, mappingProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import type { OpcuaConnection } from './connection-schema.js';
import { opcuaCommandProblems } from './commands.js';
import { planDevice } from './nodes.js';
import type { OpcuaProfile } from './profile-schema.js';

/** What the OPC UA driver contributes to the one validation (gateway/site). */

/** Every node maps a catalog metric of each class that reads it, in a unit that converts to the catalog's. */
export function checkOpcuaProfile(p: Loaded<OpcuaProfile>): DriverProblem[] {
  const out = classProblems(p.classes);
  p.nodes.forEach((n, i) => {
    if (n.class !== undefined && !p.classes.includes(n.class)) out.push({ path: ['nodes', i, 'class'], message: `class ${n.class} is not one of the profile's (${p.classes.join(', ')})` });
    else out.push(...mappingProblems(n.class ? [n.class] : p.classes, { metric: n.metric, unit: n.unit, map: n.map }, ['nodes', i]));
  });
  out.push(...opcuaCommandProblems(p));
  return out;
}

/** Security mode and policy agree; every device's node ids and paths can be filled from its options. */
export function checkOpcua(input: DriverCheckInput<OpcuaConnection, Loaded<OpcuaProfile>>): DriverProblem[] {
  const out: DriverProblem[] = [];
  for (const { index, connection: c } of input.connections) {
    if ((c.security_mode === 'None') !== (c.security_policy === 'None'))
      out.push({ path: ['connections', index, 'security_policy'], message: `security_mode ${c.security_mode} needs a security_policy ${c.security_mode === 'None' ? 'None' : 'other than None'}` });
  }
  for (const { index, config, profile } of input.devices) {
    try {
      planDevice(config, profile);
    } catch (err) {
      out.push({ path: ['devices', index, 'options'], message: (err as Error).message });
    }
  }
  return out;
}
