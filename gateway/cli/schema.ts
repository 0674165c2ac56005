import { configJsonSchema, profileJsonSchema, profileSchemaNames } from '../site/json-schema.js';
import type { Command } from './common.js';

/** `fcgw schema config|profile-<protocol>`: a JSON Schema on stdout, for editors. */
export const schemaCommand: Command = {
  usage: `fcgw schema config|${profileSchemaNames().join('|')}
  Print a JSON Schema (draft-07) for the config or for one driver's profiles, generated from the
  schemas fcgw validates with. Save it and point the editor at it, e.g. a first line
  "# yaml-language-server: $schema=./config.schema.json".`,
  run(_opts, positionals) {
    const what = positionals[0];
    const schema = what === 'config' ? configJsonSchema() : what?.startsWith('profile-') ? profileJsonSchema(what.slice('profile-'.length)) : undefined;
    if (!schema) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    process.stdout.write(`${JSON.stringify(schema, null, 2)}\n`);
    return 0;
  },
};
