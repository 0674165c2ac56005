import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/** drivers/README.md lists every shipped profile's ordering policy with its reason, and says what the profile does. */

const ROOT = join(import.meta.dirname, '../../..');
const readme = readFileSync(join(ROOT, 'drivers/README.md'), 'utf8');
const section = readme.slice(readme.indexOf('## Late data and ordering'), readme.indexOf('## Editor help'));
const rows = new Map(
  [...section.matchAll(/^\| ([a-z0-9-]+) \| ([a-z0-9 /-]+) \| (keep|reject|—) \| (.+) \|$/gm)].map((m) => [m[1] as string, { protocol: m[2] as string, policy: m[3] as string, why: m[4] as string }]),
);

describe('ordering policy table', () => {
  const dir = join(ROOT, 'drivers/profiles');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
    it(file, () => {
      const p = parse(readFileSync(join(dir, file), 'utf8')) as { id: string; protocol: string; out_of_order?: string };
      const row = rows.get(p.id);
      expect(row, `drivers/README.md has no row for ${p.id}`).toBeDefined();
      expect(row?.protocol).toBe(p.protocol);
      expect(row?.why.length).toBeGreaterThan(20);
      if (p.protocol === 'mqtt') expect(row?.policy).toBe(p.out_of_order === 'reject' ? 'reject' : 'keep');
    });
  }
});
