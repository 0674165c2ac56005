import { parseArgs } from 'node:util';
import { checkConfigCommand } from './check-config.js';
import { commandCommand } from './command.js';
import { fail, type Command } from './common.js';
import { explainCommand } from './explain.js';
import { hashPasswordCommand } from './hash-password.js';
import { newProfileCommand } from './new-profile.js';
import { profileCommand } from './profile.js';
import { recordCommand } from './record.js';
import { replayCommand } from './replay.js';
import { reportCommand } from './report.js';
import { schemaCommand } from './schema.js';
import { simulateCommand } from './simulate.js';
import { startCommand } from './start.js';
import { statusCommand } from './status.js';

/** Every command, one file each (gateway/cli/<command>.ts). */
export const COMMANDS: Readonly<Record<string, Command>> = {
  start: startCommand,
  'check-config': checkConfigCommand,
  simulate: simulateCommand,
  explain: explainCommand,
  report: reportCommand,
  status: statusCommand,
  command: commandCommand,
  'hash-password': hashPasswordCommand,
  profile: profileCommand,
  schema: schemaCommand,
  'new-profile': newProfileCommand,
  record: recordCommand,
  replay: replayCommand,
};

function usage(): string {
  return `fcgw — future-community edge gateway\n\n${Object.values(COMMANDS).map((c) => c.usage).join('\n\n')}\n`;
}

/** `fcgw COMMAND [options]`: the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  let args;
  try {
    args = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        verbose: { type: 'boolean', short: 'v', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        speed: { type: 'string' },
        seed: { type: 'string' },
        mqtt: { type: 'string' },
        kpi: { type: 'boolean', default: false },
        window: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        format: { type: 'string' },
        browse: { type: 'boolean', default: false },
        probe: { type: 'boolean', default: false },
        depth: { type: 'string' },
        url: { type: 'string' },
        json: { type: 'boolean', default: false },
        device: { type: 'string' },
        for: { type: 'string' },
        out: { type: 'string', short: 'o' },
        'dry-run': { type: 'boolean', default: false },
        key: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`fcgw ${name}: ${(err as Error).message}\n${command?.usage ?? usage()}\n`);
    return 2;
  }
  const { values: opts, positionals } = args;
  if (!command) {
    process.stderr.write(`fcgw: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (opts.help) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(opts, positionals);
  } catch (err) {
    return fail(err, opts.verbose ?? false);
  }
}
