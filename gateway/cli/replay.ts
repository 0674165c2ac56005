import { readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { DRIVERS } from '../../drivers/index.js';
import type { Recording } from '../../drivers/core/recording.js';
import { loadProfiles, PROFILE_DIR } from '../site/profiles.js';
import { formatProblem, parseConfigText } from '../config/load.js';
import { runGoldenDoc } from '../golden/run.js';
import { profileDirs } from '../site/index.js';
import { dirname, resolve } from 'node:path';
import type { Command } from './common.js';

const USAGE = `fcgw replay FILE [-c CONFIG] [-o CASES.yaml]
  Run a recording (fcgw record) through its profile and the pipeline offline, and print the
  samples with their quality, and what was refused. -c loads the config's profiles.dirs; -o
  writes the recording as a golden file (each poll or message a case, expecting the samples it
  gives now) for fcgw profile test.`;

export const replayCommand: Command = {
  usage: USAGE,
  async run(opts, positionals) {
    const file = positionals[0];
    if (!file) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    let rec: Recording;
    try {
      rec = JSON.parse(readFileSync(file, 'utf8')) as Recording;
      if (rec.format !== 'fcgw-recording/1') throw new Error('not a recording of fcgw record (format fcgw-recording/1)');
    } catch (err) {
      process.stderr.write(`fcgw replay: ${file}: ${(err as Error).message}\n`);
      return 2;
    }
    let dirs = [PROFILE_DIR];
    if (opts.config) {
      const parsed = parseConfigText(readFileSync(opts.config, 'utf8'), process.env);
      if (!parsed.config) {
        process.stderr.write(`${parsed.problems.map(formatProblem).join('\n')}\n`);
        return 2;
      }
      dirs = profileDirs(parsed.config, dirname(resolve(opts.config)));
    }
    const profile = loadProfiles(DRIVERS, dirs).profiles.get(rec.profile);
    const driver = DRIVERS.find((d) => d.profileProtocol === rec.protocol);
    if (!profile || !driver?.fromRecording) {
      process.stderr.write(`fcgw replay: ${profile ? `the ${rec.protocol} driver cannot replay` : `no profile "${rec.profile}" (give -c CONFIG for your profiles)`}\n`);
      return 2;
    }
    const doc = driver.fromRecording(profile, rec);
    const report = await runGoldenDoc({ ...doc, cases: doc.cases.map((c) => ({ ...c, samples: [] })) }, profile, driver);
    const lines: string[] = [];
    let samples = 0;
    let refused = 0;
    report.cases.forEach((c) => {
      lines.push(c.name);
      if (c.got.reject) {
        refused++;
        lines.push(`  refused: ${c.got.reject}`);
      }
      for (const s of c.got.samples) {
        samples++;
        lines.push(`  ${new Date(Number(s['ts'])).toISOString()} ${String(s['metric'])} = ${JSON.stringify(s['value'])} ${String(s['quality'])}${s['reason'] ? ` (${String(s['reason'])})` : ''}`);
      }
      for (const d of c.diff) if (d.startsWith('!')) lines.push(`  ${d}`);
    });
    lines.push(`${file}: ${rec.device.id} (${rec.profile}): ${report.cases.length} ${rec.protocol === 'mqtt' ? 'messages' : 'polls'}, ${samples} samples, ${refused} refused`);
    process.stdout.write(`${lines.join('\n')}\n`);
    if (opts.out) {
      const cases = doc.cases.map((c, i) => ({ ...c, ...(report.cases[i]?.got.reject ? { reject: report.cases[i]?.got.reject } : { samples: report.cases[i]?.got.samples ?? [] }) }));
      writeFileSync(opts.out, `# From the recording ${file}: the samples are what the profile gave when it was turned into a case.\n${stringify({ ...doc, cases })}`);
      process.stdout.write(`wrote ${opts.out}\n`);
    }
    return 0;
  },
};
