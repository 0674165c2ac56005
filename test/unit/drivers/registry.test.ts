import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { DRIVERS } from '../../../drivers/index.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';

const driversDir = join(import.meta.dirname, '../../../drivers');

describe('driver registry', () => {
  it('registers every driver folder in drivers/index.ts', () => {
    const folders = readdirSync(driversDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !['core', 'profiles'].includes(d.name) && existsSync(join(driversDir, d.name, 'index.ts')))
      .map((d) => d.name)
      .sort();
    expect(DRIVERS.map((d) => d.profileProtocol).sort()).toEqual(folders);
  });

  it('gives each protocol to exactly one driver', () => {
    const protocols = DRIVERS.flatMap((d) => [...d.protocols]);
    expect(new Set(protocols).size).toBe(protocols.length);
  });
});

describe('every profile', () => {
  const { profiles, problems } = loadProfiles(DRIVERS);
  it('parses and validates', () => expect(problems).toEqual([]));
  it.each([...profiles.values()].map((p) => [p.id, p] as const))('%s serves catalog classes', (_id, p) => {
    for (const c of p.classes) expect(Object.keys(CATALOG)).toContain(c);
  });
});
