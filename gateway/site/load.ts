import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { DriverFactory } from '../../drivers/core/driver.js';
import { DRIVERS } from '../../drivers/index.js';
import { loadProfiles, PROFILE_DIR } from './profiles.js';
import { ConfigError, parseConfigText, type ConfigProblem, type ParsedYaml } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { resolveSite, type SiteResult } from './resolve.js';
import type { ResolvedSite } from './types.js';

export interface SiteOptions {
  env?: NodeJS.ProcessEnv;
  drivers?: readonly DriverFactory[];
  /** Directory `profiles.dirs` are relative to (default: the config file's, else the working directory). */
  baseDir?: string;
}

/** The profile directories of a config: the built-in ones, then the user's (relative to `baseDir`). */
export function profileDirs(config: Readonly<GatewayConfig>, baseDir = process.cwd()): string[] {
  return [PROFILE_DIR, ...config.profiles.dirs.map((d) => (isAbsolute(d) ? d : resolve(baseDir, d)))];
}

/** A parsed config (with where its paths are) → resolved site or problems: profiles are loaded here. */
export function siteOf(config: Readonly<GatewayConfig>, opts: SiteOptions & { lineOf?: ParsedYaml['lineOf'] } = {}): SiteResult {
  const drivers = opts.drivers ?? DRIVERS;
  const { profiles, problems, warnings } = loadProfiles(drivers, profileDirs(config, opts.baseDir));
  const r = resolveSite({ config, profiles, profileProblems: problems, drivers, ...(opts.lineOf ? { lineOf: opts.lineOf } : {}) });
  // A user profile that replaces a built-in one is allowed, and said (check-config prints it, start logs it).
  return warnings.length ? { ...r, warnings } : r;
}

/** Read a config file and validate all of it: the entry of `fcgw check-config`, start and reload. */
export function loadSite(file: string, opts: SiteOptions = {}): SiteResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { ok: false, problems: [{ path: '', message: `cannot read the file: ${(err as Error).message}` }] };
  }
  const parsed = parseConfigText(text, opts.env ?? process.env);
  if (!parsed.config) return { ok: false, problems: parsed.problems };
  return siteOf(parsed.config, { ...opts, baseDir: opts.baseDir ?? dirname(resolve(file)), lineOf: parsed.lineOf });
}

/** The site, or a ConfigError naming every problem. */
export function siteOrThrow(r: SiteResult, file = '<config>'): ResolvedSite {
  if (r.ok) return r.site;
  throw new ConfigError(file, r.problems as ConfigProblem[]);
}
