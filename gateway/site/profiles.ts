import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dotted, parseYaml, zodProblems, type ConfigProblem } from '../config/load.js';
import type { ConnectionConfig } from '../config/schema.js';
import type { DriverFactory } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';

/** The built-in profiles: one YAML file per device model in drivers/profiles. */
export const PROFILE_DIR = fileURLToPath(new URL('../../drivers/profiles/', import.meta.url));

export interface ProfileProblem extends ConfigProblem {
  file: string;
}

/**
 * Load and validate every profile YAML in `dirs`. Each file is one device model; its
 * `protocol:` picks the driver whose schema validates it, then the driver's own checks run
 * (`checkProfile`). A profile with a problem is left out; problems carry file and line.
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
      const profile: Profile = { ...(res.data as Omit<Profile, 'file'>), protocol: driver.profileProtocol, file };
      const stem = basename(f).replace(/\.ya?ml$/, '');
      if (profile.id !== stem) {
        problems.push({ file, path: 'id', line: y.lineOf(['id']), message: `id "${profile.id}" must match the file name "${stem}"` });
        continue;
      }
      if (profiles.has(profile.id)) {
        problems.push({ file, path: 'id', line: y.lineOf(['id']), message: `profile "${profile.id}" is defined twice (also ${profiles.get(profile.id)?.file ?? '?'})` });
        continue;
      }
      // The driver's own checks: catalog metrics and units, registers that overlap…
      const own = driver.checkProfile?.(profile) ?? [];
      if (own.length) {
        problems.push(...own.map((p) => ({ file, path: dotted(p.path), line: y.lineOf(p.path), message: p.message })));
        continue;
      }
      profiles.set(profile.id, profile);
    }
  }
  return { profiles, problems };
}

/**
 * The loaded profiles one driver reads, typed as its schema infers them. The loader parsed each
 * with that driver's schema (picked by `protocol:`), so the protocol says what the type is.
 */
export function profilesOf<C extends ConnectionConfig, P extends Profile>(profiles: ReadonlyMap<string, Profile>, driver: DriverFactory<C, P>): Map<string, P> {
  return new Map([...profiles].filter(([, p]) => p.protocol === driver.profileProtocol) as [string, P][]);
}
