import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DRIVERS } from '../../drivers/index.js';
import { loadProfiles, PROFILE_DIR } from '../site/profiles.js';
import { formatProblem } from '../config/load.js';
import { reportText, runGoldenDoc } from '../golden/run.js';
import { casesText, exampleCase, modbusFromCsv, mqttFromPayload, scaffoldText } from '../golden/scaffold.js';
import type { Command } from './common.js';

const USAGE = `fcgw new-profile ID CLASS REGISTERS.csv|SAMPLE.json [DIR]
  Scaffold DIR/profiles/ID.yaml and its golden case DIR/cases/ID.yaml (DIR: the working directory).
  From a register list (CSV with a header: address, type, metric, and optionally scale, unit,
  function, order) a Modbus profile; from one sample MQTT payload (JSON) an MQTT profile whose
  readings are the fields named like metrics of CLASS. The profile is checked like any other and
  the case is run once: its expected samples are what the profile gives now, to be checked
  against the device's documentation. Exit 2 on a problem; existing files are never overwritten.`;

export const newProfileCommand: Command = {
  usage: USAGE,
  async run(_opts, positionals) {
    const [id, cls, source, dir = '.'] = positionals;
    if (!id || !cls || !source) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    if (!/^[a-z0-9][a-z0-9._-]*$/.test(id)) {
      process.stderr.write(`fcgw new-profile: "${id}" is not a profile id (lower case letters, digits, . _ -)\n`);
      return 2;
    }
    let text: string;
    try {
      text = readFileSync(source, 'utf8');
    } catch (err) {
      process.stderr.write(`fcgw new-profile: ${(err as Error).message}\n`);
      return 2;
    }
    const json = /\.json$/i.test(source);
    const s = json ? mqttFromPayload(id, cls, text) : modbusFromCsv(id, cls, text);
    if (s.problems.length) {
      process.stderr.write(`${s.problems.map((p) => `${source}: ${p}`).join('\n')}\n`);
      return 2;
    }
    const profileFile = join(dir, 'profiles', `${id}.yaml`);
    const casesFile = join(dir, 'cases', `${id}.yaml`);
    for (const f of [profileFile, casesFile])
      if (existsSync(f)) {
        process.stderr.write(`fcgw new-profile: ${f} exists; not overwritten\n`);
        return 2;
      }
    mkdirSync(join(dir, 'profiles'), { recursive: true });
    mkdirSync(join(dir, 'cases'), { recursive: true });
    writeFileSync(profileFile, scaffoldText(s, source));
    const { profiles, problems } = loadProfiles(DRIVERS, [PROFILE_DIR, resolve(dir, 'profiles')]);
    const profile = profiles.get(id);
    const own = problems.filter((p) => resolve(p.file) === resolve(profileFile));
    if (!profile || own.length) {
      process.stderr.write(`${own.map(formatProblem).join('\n') || `${profileFile}: did not load`}\n`);
      return 2;
    }
    const driver = DRIVERS.find((d) => d.profileProtocol === profile.protocol);
    const c = exampleCase(s.profile, json ? JSON.parse(text) : undefined);
    const doc = { profile: id, ...(json ? { device: 'golden', topic: 'devices/golden/up' } : {}), cases: [c] };
    const run = driver ? await runGoldenDoc({ ...doc, cases: [{ ...c, samples: [] }] }, profile, driver) : undefined;
    const got = run?.cases[0]?.got;
    const samples = (got?.samples ?? []).map(({ ts: _t, ...x }) => x);
    const body = casesText({ ...doc, cases: [{ ...c, samples }] });
    writeFileSync(casesFile, `# The samples below are what the profile gives for this input today: check each against the\n# device documentation (catalog units: Wh, W, m³, °C…) before trusting the case.\n${body}`);
    process.stdout.write(`wrote ${profileFile} and ${casesFile}\n`);
    if (run?.problems.length) process.stdout.write(reportText(casesFile, run));
    process.stdout.write(`next: fcgw profile test ${profileFile} ${casesFile}\n`);
    return 0;
  },
};
