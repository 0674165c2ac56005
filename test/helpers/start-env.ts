import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The environment `npm start` gives the gateway: the NAME=value words before `node` in
 * package.json's start script (glibc's malloc tuning). Benches that measure the gateway as
 * `npm start` runs it spawn it with these; the Dockerfile sets the same (compose.test.ts).
 */
export function startEnv(): Record<string, string> {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { scripts: { start: string } };
  const env: Record<string, string> = {};
  for (const word of pkg.scripts.start.split(/\s+/)) {
    const m = /^([A-Z_][A-Z0-9_]*)=(\S*)$/.exec(word);
    if (!m) break;
    env[m[1] as string] = m[2] as string;
  }
  return env;
}
