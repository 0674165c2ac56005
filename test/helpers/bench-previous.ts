import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A bench's last result (without its own `previous`), kept beside the new figures. */
export function previousResult(bench: string): unknown {
  try {
    const { previous: _p, ...last } = JSON.parse(readFileSync(join(import.meta.dirname, '../bench/results', `${bench}.json`), 'utf8')) as Record<string, unknown>;
    return last;
  } catch {
    return undefined;
  }
}
