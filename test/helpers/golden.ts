import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Every golden file (`*.yaml`) of a folder, parsed, in name order, each with its file name. */
export function readGoldenFiles<T extends object>(dir: string): (T & { file: string })[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ ...(parse(readFileSync(join(dir, f), 'utf8')) as T), file: f }));
}
