// `npm run bench [name…]`: runs each benchmark in its own process (one at a time, so they do
// not compete for the two cores), then prints a summary of test/bench/results/*.json.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const wanted = process.argv.slice(2);
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && f !== 'run.ts')
  .map((f) => f.replace(/\.ts$/, ''))
  .filter((n) => wanted.length === 0 || wanted.includes(n))
  .sort();

let failed = 0;
for (const name of benches) {
  console.log(`\n=== bench: ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, `${name}.ts`)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    console.log(`bench ${name} failed (exit ${r.status})`);
  }
}

console.log('\n=== summary');
for (const name of benches) {
  const file = join(here, 'results', `${name}.json`);
  if (!existsSync(file)) continue;
  const res = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const { bench: _b, node: _n, at: _a, ...rest } = res;
  console.log(`${name}: ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join('  ')}`);
}
process.exitCode = failed ? 1 : 0;
