import { z } from 'zod';
import type { DriverFactory } from '../../drivers/core/driver.js';
import { DRIVERS } from '../../drivers/index.js';
import { configSchema } from '../config/schema.js';

/**
 * JSON Schemas for editors (`fcgw schema config|profile-<protocol>`), generated from the zod
 * schemas the one validation uses, so they cannot drift from it. Input side (what one writes:
 * durations and sizes are strings), JSON Schema draft-07 (what YAML editors support best). The
 * config's `connections` items are each driver's own connection schema. They help an editor
 * complete and flag keys; `fcgw check-config` stays the judge (cross-references, catalog units,
 * `${VAR}` interpolation happen there).
 */
type Json = Record<string, unknown>;

const gen = (schema: z.ZodType): Json => z.toJSONSchema(schema, { io: 'input', target: 'draft-7', unrepresentable: 'any' }) as Json;

/** A schema as a part of another: without its own `$schema`. */
function part(schema: z.ZodType): Json {
  const { $schema: _s, ...rest } = gen(schema);
  return rest;
}

export function configJsonSchema(drivers: readonly DriverFactory[] = DRIVERS): Json {
  const s = gen(configSchema);
  const props = s['properties'] as Record<string, Json>;
  const connections = props['connections'] as Json;
  connections['items'] = { anyOf: drivers.map((d) => ({ ...part(d.connectionSchema), description: `a ${d.protocols.join(' / ')} connection` })) };
  return { ...s, title: 'fcgw gateway config', description: 'config/example.yaml documents every option; fcgw check-config validates a config whole.' };
}

/** Every profile protocol with a schema: `profile-modbus`, `profile-mqtt`… */
export function profileSchemaNames(drivers: readonly DriverFactory[] = DRIVERS): string[] {
  return drivers.map((d) => `profile-${d.profileProtocol}`);
}

export function profileJsonSchema(protocol: string, drivers: readonly DriverFactory[] = DRIVERS): Json | undefined {
  const d = drivers.find((x) => x.profileProtocol === protocol);
  if (!d) return undefined;
  const { $schema, ...full } = gen(d.profileSchema);
  return {
    $schema,
    title: `fcgw ${protocol} device profile`,
    description: 'A device profile written out in full, or one that extends another (`extends: <id>`) and gives only what differs (drivers/README.md).',
    anyOf: [full, { type: 'object', required: ['id', 'extends'], properties: { id: { type: 'string' }, extends: { type: 'string' }, protocol: { const: protocol } } }],
  };
}
