import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dotted, parseYaml, zodProblems, type ConfigProblem, type ParsedYaml } from '../config/load.js';
import type { ConnectionConfig } from '../config/schema.js';
import { didYouMean } from '../model/suggest.js';
import type { DriverFactory } from '../../drivers/core/driver.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import { extendProfile } from './extend-profile.js';

/** The built-in profiles: one YAML file per device model in drivers/profiles. */
export const PROFILE_DIR = fileURLToPath(new URL('../../drivers/profiles/', import.meta.url));

/**
 * The built-in profiles already parsed, written by bin/build.js beside them in a compiled build:
 * file name → the text's SHA-256 and its YAML value. Parsing the YAML (with line numbers) was most
 * of a gateway's start-up; a file whose text no longer matches its hash is parsed as usual, and
 * line numbers are parsed for only when a problem needs one.
 */
export const PARSED_PROFILES = '.parsed.json';

type Parsed = Record<string, { sha256: string; value: unknown }>;

function readParsed(dir: string): Parsed {
  try {
    return JSON.parse(readFileSync(join(dir, PARSED_PROFILES), 'utf8')) as Parsed;
  } catch {
    return {}; // running from the sources, or a user's directory: parse every file
  }
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A profile file's YAML: from the build's parsed copy when its text is the same, else parsed now. */
function parseProfile(text: string, parsed: Parsed[string] | undefined): ParsedYaml {
  if (!parsed || parsed.sha256 !== sha256(text)) return parseYaml(text);
  let lines: ParsedYaml | undefined;
  return { value: parsed.value, problems: [], lineOf: (path) => (lines ??= parseYaml(text)).lineOf(path) };
}

export interface ProfileProblem extends ConfigProblem {
  file: string;
}

/** A file as read: its YAML (before any `extends:`), where its paths are, and its directory's rank. */
interface Source {
  file: string;
  stem: string;
  raw: Record<string, unknown>;
  lineOf: ParsedYaml['lineOf'];
}

/**
 * Load and validate every profile YAML in `dirs`, in order: the built-in directory first, then the
 * user's (`profiles.dirs`). Each file is one device model; its `protocol:` picks the driver whose
 * schema validates it, then the driver's own checks run (`checkProfile`). A profile with a problem
 * is left out; problems carry file and line.
 *
 * A profile may say `extends: <id>`: it is merged over that profile as written (drivers/profiles/
 * extend.ts has the rules) and then checked like any other. The base is another file of the same
 * directory, else the profile of that id as loaded from the earlier directories, so a user profile
 * named like a built-in one may extend it. A profile in a later directory with the id of one in an
 * earlier directory replaces it, with a warning (a profile defined twice in one directory cannot
 * happen: the id is the file name).
 */
export function loadProfiles(
  drivers: readonly DriverFactory[],
  dirs: readonly string[] = [PROFILE_DIR],
  /** The directory whose PARSED_PROFILES is trusted (the build's own); a user's directory is parsed. */
  parsedIn: string = PROFILE_DIR,
): { profiles: Map<string, Profile>; problems: ProfileProblem[]; warnings: ProfileProblem[] } {
  const profiles = new Map<string, Profile>();
  const problems: ProfileProblem[] = [];
  const warnings: ProfileProblem[] = [];
  const byProtocol = new Map(drivers.map((d) => [d.profileProtocol, d]));
  /** Each loaded profile as written (extends resolved), by id: what a later `extends:` builds on. */
  const written = new Map<string, Record<string, unknown>>();
  for (const dir of dirs) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
    } catch (err) {
      // A directory of one's own that cannot be read is worth saying (a typo in profiles.dirs).
      if (dir !== PROFILE_DIR) warnings.push({ file: dir, path: 'profiles.dirs', message: `cannot read this profile directory: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const here = new Map<string, Source>();
    const parsed = dir === parsedIn ? readParsed(dir) : {};
    for (const f of files) {
      const file = join(dir, f);
      const y = parseProfile(readFileSync(file, 'utf8'), Object.hasOwn(parsed, f) ? parsed[f] : undefined);
      if (y.problems.length) {
        problems.push(...y.problems.map((p) => ({ ...p, file })));
        continue;
      }
      if (y.value === null || typeof y.value !== 'object' || Array.isArray(y.value)) {
        problems.push({ file, path: '', message: 'a profile is a YAML mapping (id, description, classes, protocol…)' });
        continue;
      }
      here.set(basename(f).replace(/\.ya?ml$/, ''), { file, stem: basename(f).replace(/\.ya?ml$/, ''), raw: y.value as Record<string, unknown>, lineOf: y.lineOf });
    }
    const resolved = new Map<string, Record<string, unknown> | null>();
    const resolving = new Set<string>();
    /** The profile of `stem` in this directory with its `extends:` merged in, or null (problem said). */
    const resolve = (src: Source): Record<string, unknown> | null => {
      const done = resolved.get(src.stem);
      if (done !== undefined) return done;
      const base = src.raw['extends'];
      let out: Record<string, unknown> | null = src.raw;
      if (base !== undefined) {
        const at = { file: src.file, path: 'extends', line: src.lineOf(['extends']) };
        if (typeof base !== 'string') {
          problems.push({ ...at, message: 'extends names one profile id (e.g. extends: modbus-water-meter)' });
          out = null;
        } else if (resolving.has(src.stem)) {
          problems.push({ ...at, message: `extends "${base}" goes round in a circle (${[...resolving, src.stem].join(' → ')})` });
          out = null;
        } else {
          const sibling = base !== src.stem ? here.get(base) : undefined;
          resolving.add(src.stem);
          const parent = sibling ? resolve(sibling) : (written.get(base) ?? null);
          resolving.delete(src.stem);
          if (!parent) {
            if (!sibling) problems.push({ ...at, message: `extends "${base}": no such profile${didYouMean(base, [...written.keys(), ...here.keys()])} (a base loads from the built-in profiles, an earlier directory or this one)` });
            else problems.push({ ...at, message: `extends "${base}", which has problems of its own (${sibling.file})` });
            out = null;
          } else out = extendProfile(parent, src.raw);
        }
      }
      resolved.set(src.stem, out);
      return out;
    };
    for (const src of here.values()) {
      const { file, stem } = src;
      const raw = resolve(src);
      if (!raw) continue;
      // A path the child file does not spell (inherited from its base) is reported at its `extends:`.
      const lineOf = (path: readonly PropertyKey[]) => {
        if (raw === src.raw) return src.lineOf(path);
        const own = ownPath(src.raw, raw, path);
        return own ? src.lineOf(own) : src.lineOf(['extends']);
      };
      const protocol = typeof raw['protocol'] === 'string' ? raw['protocol'] : undefined;
      const driver = protocol ? byProtocol.get(protocol) : undefined;
      if (!driver) {
        problems.push({ file, path: 'protocol', line: lineOf(['protocol']), message: `unknown or missing protocol "${String(protocol)}" (known: ${[...byProtocol.keys()].join(', ')})` });
        continue;
      }
      const res = driver.profileSchema.safeParse(raw);
      if (!res.success) {
        problems.push(...zodProblems(res.error.issues, lineOf).map((p) => ({ ...p, file })));
        continue;
      }
      const profile: Profile = { ...(res.data as Omit<Profile, 'file'>), protocol: driver.profileProtocol, file };
      if (profile.id !== stem) {
        problems.push({ file, path: 'id', line: lineOf(['id']), message: `id "${profile.id}" must match the file name "${stem}"` });
        continue;
      }
      // The driver's own checks: catalog metrics and units, registers that overlap…
      const own = driver.checkProfile?.(profile) ?? [];
      if (own.length) {
        problems.push(...own.map((p) => ({ file, path: dotted(p.path), line: lineOf(p.path), message: p.message })));
        continue;
      }
      const earlier = profiles.get(profile.id);
      if (earlier) warnings.push({ file, path: 'id', line: lineOf(['id']), message: `profile "${profile.id}" replaces the one in ${earlier.file}` });
      profiles.set(profile.id, profile);
      written.set(profile.id, raw);
    }
  }
  return { profiles, problems, warnings };
}

/**
 * Where a path of a merged profile is in the child's own YAML: list entries are found by identity
 * (the merge keeps the child's entries as they are), so `points[4]` of the merge may be `points[1]`
 * of the file. Undefined when the value came from the base.
 */
function ownPath(child: unknown, merged: unknown, path: readonly PropertyKey[]): PropertyKey[] | undefined {
  const out: PropertyKey[] = [];
  let c = child;
  let m = merged;
  for (const key of path) {
    if (c === m) return [...out, ...path.slice(out.length)];
    if (Array.isArray(m) && Array.isArray(c) && typeof key === 'number') {
      const i = c.indexOf(m[key]);
      if (i < 0) return undefined;
      out.push(i);
      c = c[i];
      m = m[key];
    } else if (c !== null && typeof c === 'object' && m !== null && typeof m === 'object' && key in c) {
      out.push(key);
      c = (c as Record<PropertyKey, unknown>)[key];
      m = (m as Record<PropertyKey, unknown>)[key];
    } else return undefined;
  }
  return out;
}

/**
 * The loaded profiles one driver reads, typed as its schema infers them. The loader parsed each
 * with that driver's schema (picked by `protocol:`), so the protocol says what the type is.
 */
export function profilesOf<C extends ConnectionConfig, P extends Profile>(profiles: ReadonlyMap<string, Profile>, driver: DriverFactory<C, P>): Map<string, P> {
  return new Map([...profiles].filter(([, p]) => p.protocol === driver.profileProtocol) as [string, P][]);
}
