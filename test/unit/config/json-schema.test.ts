import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../drivers/index.js';
import { PROFILE_DIR } from '../../../gateway/site/profiles.js';
import { configSchema } from '../../../gateway/config/schema.js';
import { configJsonSchema, profileJsonSchema } from '../../../gateway/site/json-schema.js';

const ROOT = join(import.meta.dirname, '../../..');
// ajv 6 is what node_modules has (draft-07, the draft the schemas are generated for).
const ajv = new Ajv({ allErrors: true, unknownFormats: 'ignore' });
const errorsOf = (schema: object, data: unknown): string[] => {
  const validate = ajv.compile(schema);
  return validate(data) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
};
const yamlOf = (file: string): unknown => parse(readFileSync(file, 'utf8'));

describe('JSON Schemas generated from the zod schemas (fcgw schema)', () => {
  const config = configJsonSchema();

  it.each(['config/example.yaml', 'config/demo.yaml'])('%s validates against the config schema', (file) => {
    expect(errorsOf(config, yamlOf(join(ROOT, file)))).toEqual([]);
  });

  it('flags what check-config flags at the shape level: an unknown key, a connection key its protocol has not', () => {
    const doc = yamlOf(join(ROOT, 'config/demo.yaml')) as Record<string, unknown>;
    expect(errorsOf(config, { ...doc, stroe: {} }).join('\n')).toContain('additionalProperty":"stroe"');
    const bad = { ...doc, connections: [{ id: 'x', protocol: 'modbus-tcp', host: '10.0.0.5', baud: 9600 }] };
    expect(errorsOf(config, bad)).not.toEqual([]);
    const good = { ...doc, connections: [{ id: 'x', protocol: 'modbus-tcp', host: '10.0.0.5', timeout: '1s' }] };
    expect(errorsOf(config, good)).toEqual([]);
  });

  const files = readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.yaml'));
  it.each(files)('built-in profile %s validates against its protocol\'s schema', (f) => {
    const doc = yamlOf(join(PROFILE_DIR, f)) as { protocol: string };
    const schema = profileJsonSchema(doc.protocol);
    expect(schema, `no schema for ${doc.protocol}`).toBeDefined();
    expect(errorsOf(schema as object, doc)).toEqual([]);
  });

  it('a profile that extends another validates; a misspelt key of a full profile does not', () => {
    const schema = profileJsonSchema('modbus') as object;
    expect(errorsOf(schema, { id: 'mine', extends: 'modbus-water-meter', limits: { max_registers: 8 } })).toEqual([]);
    const full = yamlOf(join(PROFILE_DIR, 'modbus-water-meter.yaml')) as Record<string, unknown>;
    expect(errorsOf(schema, { ...full, pionts: [] })).not.toEqual([]);
  });

  it('covers every key: each config section and each driver\'s connection and profile keys appear in the schema', () => {
    const props = config['properties'] as Record<string, { properties?: Record<string, unknown> }>;
    expect(Object.keys(props).sort()).toEqual(Object.keys(configSchema.shape).sort());
    const text = JSON.stringify(config);
    expect(text).not.toContain('$ref');
    for (const d of DRIVERS) {
      const p = JSON.stringify(profileJsonSchema(d.profileProtocol));
      const parsed = yamlOf(join(PROFILE_DIR, files.find((f) => (yamlOf(join(PROFILE_DIR, f)) as { protocol?: string }).protocol === d.profileProtocol) as string)) as Record<string, unknown>;
      for (const k of Object.keys(parsed)) expect(p, `${d.profileProtocol} profile key ${k}`).toContain(`"${k}"`);
      for (const proto of d.protocols) expect(text).toContain(`"const":"${proto}"`);
    }
  });
});

describe('the schemas the example files name (config/schema/*.schema.json)', () => {
  it.each(['config', ...DRIVERS.map((d) => `profile-${d.profileProtocol}`)])('%s.schema.json is what fcgw schema prints (regenerate: fcgw schema %s > config/schema/%s.schema.json)', (name) => {
    const generated = name === 'config' ? configJsonSchema() : profileJsonSchema(name.slice('profile-'.length));
    expect(JSON.parse(readFileSync(join(ROOT, 'config/schema', `${name}.schema.json`), 'utf8'))).toEqual(generated);
  });

  it.each(['config/example.yaml', 'config/demo.yaml'])('%s names its schema on its first line (yaml-language-server)', (file) => {
    expect(readFileSync(join(ROOT, file), 'utf8').split('\n')[0]).toBe('# yaml-language-server: $schema=./schema/config.schema.json');
  });
});
