import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cruise, type ICruiseResult } from 'dependency-cruiser';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layer rules of `npm run lint` (.dependency-cruiser.cjs): imports follow the data path.
 * The repository holds to them, and a deliberate wrong import in a tree of the same shape is
 * caught by the rule that names it, so the rules cannot silently stop matching.
 */
const root = join(import.meta.dirname, '../../..');
const rules = createRequire(import.meta.url)(join(root, '.dependency-cruiser.cjs')) as { forbidden: unknown[]; options: Record<string, unknown> };

async function violations(baseDir: string, dirs: string[]): Promise<string[]> {
  const r = await cruise(dirs, {
    ...rules.options,
    baseDir,
    validate: true,
    ruleSet: { forbidden: rules.forbidden } as never,
    // The fixture trees have no tsconfig; '.js' specifiers name '.ts' files as in the repository.
    tsConfig: undefined,
    enhancedResolveOptions: { extensions: ['.ts', '.js'], extensionAlias: { '.js': ['.ts', '.js'] } } as never,
  } as never);
  const out = r.output as ICruiseResult;
  return out.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

const tmp = mkdtempSync(join(tmpdir(), 'fcgw-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function tree(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmp, 't-'));
  for (const [f, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

describe('layer rules', () => {
  it('the repository keeps them: no wrong-layer import, no cycle', async () => {
    expect(await violations(root, ['gateway', 'drivers', 'simulators'])).toEqual([]);
  }, 60_000);

  it.each([
    ['a driver importing the store', { 'drivers/modbus/x.ts': "import { s } from '../../gateway/store/store.js';\nexport const x = s;\n", 'gateway/store/store.ts': 'export const s = 1;\n' }, 'drivers-import-only-the-model'],
    ['a driver importing another driver', { 'drivers/modbus/x.ts': "import { y } from '../mqtt/y.js';\nexport const x = y;\n", 'drivers/mqtt/y.ts': 'export const y = 1;\n' }, 'drivers-stay-in-their-folder'],
    ['the store importing a sink', { 'gateway/store/s.ts': "import { k } from '../sinks/k.js';\nexport const s = k;\n", 'gateway/sinks/k.ts': 'export const k = 1;\n' }, 'store-never-reaches-back'],
    ['the model importing config', { 'gateway/model/m.ts': "import { c } from '../config/c.js';\nexport const m = c;\n", 'gateway/config/c.ts': 'export const c = 1;\n' }, 'model-is-the-bottom'],
    ['a cycle', { 'gateway/api/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n", 'gateway/api/b.ts': "import { a } from './a.js';\nexport const b = () => a;\n" }, 'no-circular'],
  ])('catches %s', async (_what, files, rule) => {
    const dir = tree(files as Record<string, string>);
    const v = await violations(dir, ['gateway', 'drivers'].filter((d) => Object.keys(files as object).some((f) => f.startsWith(d))));
    expect(v.map((x) => x.split(':')[0])).toContain(rule);
  });
});
