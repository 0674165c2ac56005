import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseYaml, zodProblems, type ConfigProblem } from '../../gateway/config/load.js';
import type { DriverFactory } from '../core/driver.js';
import type { Profile } from './schema.js';

export const PROFILE_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface ProfileProblem extends ConfigProblem {
  file: string;
}

/**
 * Load and validate every profile YAML in `dirs`. Each file is one device model; its
 * `protocol:` picks the driver whose schema validates it. Problems carry file and line.
 */
export function loadProfiles(
  drivers: readonly DriverFactory[],
  dirs: readonly string[] = [PROFILE_DIR],
): { profiles: Map<string, Profile>; problems: ProfileProblem[] } {
  const profiles = new Map<string, Profile>();
  const problems: ProfileProblem[] = [];
  const byProtocol = new Map(drivers.map((d) => [d.profileProtocol, d]));
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
    } catch {
      continue;
    }
    for (const f of files) {
      const file = join(dir, f);
      const y = parseYaml(readFileSync(file, 'utf8'));
      if (y.problems.length) {
        problems.push(...y.problems.map((p) => ({ ...p, file })));
        continue;
      }
      const raw = y.value as { protocol?: unknown; id?: unknown } | null;
      const protocol = typeof raw?.protocol === 'string' ? raw.protocol : undefined;
      const driver = protocol ? byProtocol.get(protocol) : undefined;
      if (!driver) {
        problems.push({ file, path: 'protocol', line: y.lineOf(['protocol']), message: `unknown or missing protocol "${String(protocol)}" (known: ${[...byProtocol.keys()].join(', ')})` });
        continue;
      }
      const res = driver.profileSchema.safeParse(raw);
      if (!res.success) {
        problems.push(...zodProblems(res.error.issues, y.lineOf).map((p) => ({ ...p, file })));
        continue;
      }
      const profile = { ...(res.data as object), protocol, file } as Profile;
      const stem = basename(f).replace(/\.ya?ml$/, '');
      if (profile.id !== stem) {
        problems.push({ file, path: 'id', line: y.lineOf(['id']), message: `id "${profile.id}" must match the file name "${stem}"` });
        continue;
      }
      if (profiles.has(profile.id)) {
        problems.push({ file, path: 'id', line: y.lineOf(['id']), message: `profile "${profile.id}" is defined twice` });
        continue;
      }
      profiles.set(profile.id, profile);
    }
  }
  return { profiles, problems };
}
