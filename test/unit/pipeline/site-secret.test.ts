import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSiteSecret } from '../../../gateway/pipeline/pseudonymise.js';

const dir = mkdtempSync(join(tmpdir(), 'fcgw-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the site secret file', () => {
  it('is generated 0600 in a directory made 0700, and read back the same', () => {
    const file = join(dir, 'new', 'deeper', 'site-secret');
    const a = loadSiteSecret({ envName: 'NOPE', file, env: {} });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new', 'deeper')).mode & 0o777).toBe(0o700);
    expect(loadSiteSecret({ envName: 'NOPE', file, env: {} }).equals(a)).toBe(true);
  });

  it('refuses a pseudo-filesystem at once, naming the file (recursive mkdir there never returns: without the check this test hangs)', () => {
    expect(() => loadSiteSecret({ envName: 'NOPE', file: '/proc/self/nope/site-secret', env: {} })).toThrow(/\/proc\/self\/nope\/site-secret.*pseudo-filesystem/);
  });
});
