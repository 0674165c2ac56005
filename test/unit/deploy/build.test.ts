import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE_ENTRY, ensureBuilt, loadBundle } from '../../../bin/build.js';

const root = mkdtempSync(join(tmpdir(), 'fcgw-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  writeFileSync(join(root, rel), text);
}

write('tsconfig.json', '{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "strict": true } }');
write('gateway/main.ts', "import { twice } from '../drivers/twice.js';\nimport type { Unused } from './types.js';\nexport const value: number = twice(21);\nexport type { Unused };\nexport const here = new URL('../drivers/profiles/', import.meta.url).pathname;\n");
write('gateway/types.ts', 'export interface Unused { x: number }\n');
write('gateway/main.test.ts', 'throw new Error("tests are not built");\n');
write('drivers/twice.ts', 'export const twice = (n: number): number => n * 2;\n');
write('drivers/profiles/meter.yaml', 'id: meter\n');
// Loaded with import(): its code runs when imported, not at start.
write('simulators/sim.ts', "(globalThis as Record<string, unknown>).simLoaded = true;\nexport enum Kind { A = 1 }\n");
// The CLI entry: bundled with what it imports; the start command's packages are bundled, a package
// only imported with import() (here a copy of one, in the temporary tree) stays outside.
write('gateway/cli/index.ts', "import { value } from '../main.js';\nexport const main = async () => value + (await import('../../simulators/sim.js')).Kind.A + (await import('lazy-pkg')).default + (await import('./start.js')).start(0);\nexport const web = new URL('../web/', import.meta.url).pathname;\nexport const file = import.meta.filename;\n");
write('gateway/cli/start.ts', "import { tag } from 'static-pkg';\nexport const start = (n: number) => (tag ? n : -1);\n");
write('node_modules/static-pkg/package.json', '{ "name": "static-pkg", "main": "index.js" }\n');
write('node_modules/static-pkg/index.js', "exports.tag = 'static-pkg-code';\n");
write('node_modules/lazy-pkg/package.json', '{ "name": "lazy-pkg", "type": "module", "exports": "./index.js" }\n');
write('node_modules/lazy-pkg/index.js', "export default 100;\nexport const tag = 'lazy-pkg-code';\n");
write('gateway/web/index.html', '<!doctype html>\n');

describe('bin/build.js: compiled JavaScript for fcgw', () => {
  it('compiles the tree file by file, copies the other files beside them, and the result runs', async () => {
    const dist = await ensureBuilt(root);
    const main = (await import(pathToFileURL(join(dist, 'gateway/main.js')).href)) as { value: number; here: string };
    expect(main.value).toBe(42);
    // Paths built from import.meta.url find the copied data files as they would in the sources.
    expect(readFileSync(join(main.here, 'meter.yaml'), 'utf8')).toBe('id: meter\n');
    expect(existsSync(join(dist, 'gateway/main.test.js'))).toBe(false);
    expect(existsSync(join(dist, 'simulators/sim.js'))).toBe(true);
    // The bundle fcgw starts from: the same results, and import.meta.url paths resolve from it
    // as from the compiled files (it sits two levels down, as they do).
    const g = globalThis as Record<string, unknown>;
    delete g['simLoaded'];
    const first = await loadBundle(dist, { cacheAfterMs: 0 });
    const bundle = first.exports as { main: () => Promise<number>; web: string; file: string };
    expect(g['simLoaded']).toBeUndefined();
    expect(await bundle.main()).toBe(143);
    expect(g['simLoaded']).toBe(true);
    expect(readFileSync(join(bundle.web, 'index.html'), 'utf8')).toBe('<!doctype html>\n');
    expect(bundle.file).toBe(join(dist, 'gateway/cli/index.js'));
    const text = readFileSync(join(dist, BUNDLE_ENTRY), 'latin1');
    expect(text).toContain('static-pkg-code');
    expect(text).not.toContain('lazy-pkg-code');
    // The code cache: written after the first run, used by the next process (within one, V8's own
    // compilation cache answers first).
    expect(first.codeCache).toBe('absent');
    await new Promise((r) => setTimeout(r, 50));
    const caches = readdirSync(join(dist, 'gateway/bundle')).filter((f) => f.endsWith('.codecache'));
    expect(caches).toHaveLength(1);
    const load = (): { codeCache: string; value: number } => {
      const script = `const b = await import(${JSON.stringify(pathToFileURL(join(import.meta.dirname, '../../../bin/build.js')).href)}); const r = await b.loadBundle(${JSON.stringify(dist)}, { cacheAfterMs: 0 }); const value = await r.exports.main(); await new Promise((ok) => setTimeout(ok, 100)); console.log(JSON.stringify({ codeCache: r.codeCache, value }));`;
      return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as { codeCache: string; value: number };
    };
    expect(load()).toEqual({ codeCache: 'accepted', value: 143 });
    // A cache V8 refuses (another Node's, a damaged file) is not used, and is written again.
    writeFileSync(join(dist, 'gateway/bundle', caches[0] as string), 'not a code cache');
    expect(load()).toEqual({ codeCache: 'rejected', value: 143 });
    expect(load()).toEqual({ codeCache: 'accepted', value: 143 });
  });

  it('reuses a build while the sources are unchanged and builds again after an edit', async () => {
    const first = await ensureBuilt(root);
    const stamp = statSync(join(first, '.complete')).mtimeMs;
    expect(await ensureBuilt(root)).toBe(first);
    expect(statSync(join(first, '.complete')).mtimeMs).toBe(stamp);
    write('drivers/twice.ts', 'export const twice = (n: number): number => n * 3;\n');
    utimesSync(join(root, 'drivers/twice.ts'), new Date(), new Date(Date.now() + 5000));
    const second = await ensureBuilt(root);
    expect(second).not.toBe(first);
    const main = (await import(pathToFileURL(join(second, 'gateway/main.js')).href)) as { value: number };
    expect(main.value).toBe(63);
  });

  it('gateways started at the same moment share one complete build and leave no temporary directories', async () => {
    write('gateway/extra.ts', 'export const extra = 1;\n');
    const dirs = await Promise.all([ensureBuilt(root), ensureBuilt(root), ensureBuilt(root)]);
    expect(new Set(dirs).size).toBe(1);
    expect(existsSync(join(dirs[0] as string, 'gateway/extra.js'))).toBe(true);
    expect(readdirSync(join(root, 'dist')).filter((n) => n.startsWith('.tmp'))).toEqual([]);
  });
});
