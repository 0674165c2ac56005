import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { DRIVERS } from '../../drivers/index.js';
import { loadProfiles, PROFILE_DIR } from '../site/profiles.js';
import { formatProblem, parseConfigText } from '../config/load.js';
import { readGoldenDoc, reportText, runGoldenDoc } from '../golden/run.js';
import { profileDirs } from '../site/index.js';
import type { Command } from './common.js';

const USAGE = `fcgw profile test PROFILE CASES.yaml [-c CONFIG]
  Run golden cases (raw registers, payloads, DataValues or recorded exchanges → expected readings
  and samples) through PROFILE's driver and the pipeline's normaliser; print a diff of what differs.
  PROFILE is a profile id (built-in, or in the config's profiles.dirs with -c) or a profile file
  (its directory is loaded after the built-in ones). Exit 0 all cases pass, 1 a case fails, 2 the
  profile or the file has a problem.`;

/** The profile directories to load: built-in, the config's `profiles.dirs`, a profile file's own directory. */
function dirsFor(profileArg: string, configFile: string | undefined): { dirs: string[]; id: string } | string {
  const dirs = [PROFILE_DIR];
  if (configFile) {
    const parsed = parseConfigText(readFileSync(configFile, 'utf8'), process.env);
    if (!parsed.config) return parsed.problems.map(formatProblem).join('\n');
    dirs.splice(0, dirs.length, ...profileDirs(parsed.config, dirname(resolve(configFile))));
  }
  if (/\.ya?ml$/.test(profileArg)) {
    if (!existsSync(profileArg)) return `no file ${profileArg}`;
    const dir = dirname(resolve(profileArg));
    if (!dirs.includes(dir)) dirs.push(dir);
    return { dirs, id: basename(profileArg).replace(/\.ya?ml$/, '') };
  }
  return { dirs, id: profileArg };
}

export const profileCommand: Command = {
  usage: USAGE,
  async run(opts, positionals) {
    const [sub, profileArg, casesFile] = positionals;
    if (sub !== 'test' || !profileArg || !casesFile) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    const where = dirsFor(profileArg, opts.config);
    if (typeof where === 'string') {
      process.stderr.write(`fcgw profile test: ${where}\n`);
      return 2;
    }
    const { profiles, problems, warnings } = loadProfiles(DRIVERS, where.dirs);
    for (const w of warnings) if (basename(w.file).startsWith(`${where.id}.`)) process.stderr.write(`warning: ${formatProblem(w)}\n`);
    const profile = profiles.get(where.id);
    if (!profile) {
      const own = problems.filter((p) => basename(p.file).replace(/\.ya?ml$/, '') === where.id);
      process.stderr.write(own.length ? `${own.map(formatProblem).join('\n')}\n` : `fcgw profile test: no profile "${where.id}" (loaded from ${where.dirs.join(', ')})\n`);
      return 2;
    }
    let doc;
    try {
      doc = readGoldenDoc(casesFile);
    } catch (err) {
      process.stderr.write(`fcgw profile test: ${(err as Error).message}\n`);
      return 2;
    }
    if (doc.profile !== undefined && doc.profile !== profile.id) {
      process.stderr.write(`fcgw profile test: ${casesFile} is for profile "${String(doc.profile)}", not "${profile.id}"\n`);
      return 2;
    }
    const driver = DRIVERS.find((d) => d.profileProtocol === profile.protocol);
    if (!driver) {
      process.stderr.write(`fcgw profile test: no driver reads ${profile.protocol} profiles\n`);
      return 2;
    }
    const report = await runGoldenDoc({ ...doc, profile: profile.id }, profile, driver);
    process.stdout.write(reportText(casesFile, report));
    if (report.problems.length) return 2;
    return report.cases.every((c) => c.ok) ? 0 : 1;
  },
};
