import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../drivers/index.js';
import { parseYaml } from '../../../gateway/config/load.js';
import { loadProfiles, PARSED_PROFILES, PROFILE_DIR, sha256 } from '../../../gateway/site/profiles.js';
import { tempDir } from '../../helpers/peers.js';

/**
 * A compiled build carries its built-in profiles parsed (bin/build.js writes PARSED_PROFILES):
 * start-up uses those values while each file's text has the same hash, and parses the rest.
 */
const tmp = tempDir('fcgw-parsed-');
afterAll(() => tmp.cleanup());

function builtIn(name: string, parsed: (text: string) => Record<string, unknown>): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(PROFILE_DIR, 'generic-json.yaml'), join(dir, 'generic-json.yaml'));
  const text = readFileSync(join(dir, 'generic-json.yaml'), 'utf8');
  writeFileSync(join(dir, PARSED_PROFILES), JSON.stringify({ 'generic-json.yaml': parsed(text) }));
  return dir;
}

const value = (text: string) => parseYaml(text).value as Record<string, unknown>;

describe('built-in profiles parsed at build time', () => {
  it("uses the build's parsed value while the file's text has the same hash", () => {
    const dir = builtIn('same', (text) => ({ sha256: sha256(text), value: { ...value(text), description: 'from the build' } }));
    const r = loadProfiles(DRIVERS, [dir], dir);
    expect(r.problems).toEqual([]);
    expect(r.profiles.get('generic-json')?.description).toBe('from the build');
  });

  it('parses a file whose text changed since (another hash), and a directory not named as the build one', () => {
    const stale = builtIn('stale', (text) => ({ sha256: sha256(`${text}\n# older`), value: { ...value(text), description: 'stale' } }));
    expect(loadProfiles(DRIVERS, [stale], stale).profiles.get('generic-json')?.description).toMatch(/^Generic JSON device/);
    const user = builtIn('user', (text) => ({ sha256: sha256(text), value: { ...value(text), description: 'planted' } }));
    expect(loadProfiles(DRIVERS, [user], stale).profiles.get('generic-json')?.description).toMatch(/^Generic JSON device/);
  });

  it('a problem in a parsed profile still names its line (the YAML is parsed for it then)', () => {
    const dir = builtIn('bad', (text) => ({ sha256: sha256(text), value: { ...value(text), envelope: 'xml' } }));
    const r = loadProfiles(DRIVERS, [dir], dir);
    expect(r.profiles.has('generic-json')).toBe(false);
    const line = readFileSync(join(dir, 'generic-json.yaml'), 'utf8').split('\n').findIndex((l) => l.startsWith('envelope:')) + 1;
    expect(r.problems).toEqual([expect.objectContaining({ path: 'envelope', line, file: join(dir, 'generic-json.yaml') })]);
  });

  it('an unreadable or missing parsed copy parses every file', () => {
    const dir = join(tmp.dir, 'garbage');
    mkdirSync(dir);
    copyFileSync(join(PROFILE_DIR, 'generic-json.yaml'), join(dir, 'generic-json.yaml'));
    writeFileSync(join(dir, PARSED_PROFILES), '{ not json');
    expect(loadProfiles(DRIVERS, [dir], dir).profiles.get('generic-json')?.description).toMatch(/^Generic JSON device/);
  });
});
