import { parseArgs } from 'node:util';
import { fail, type Command } from './common.js';

/**
 * Every command, one file each (gateway/cli/<command>.ts), loaded when it runs: `fcgw start`
 * never loads the simulators, recorders or report code of the other commands.
 */
export const COMMANDS: Readonly<Record<string, () => Promise<Command>>> = {
  start: async () => (await import('./start.js')).startCommand,
  'check-config': async () => (await import('./check-config.js')).checkConfigCommand,
  simulate: async () => (await import('./simulate.js')).simulateCommand,
  explain: async () => (await import('./explain.js')).explainCommand,
  report: async () => (await import('./report.js')).reportCommand,
  status: async () => (await import('./status.js')).statusCommand,
  command: async () => (await import('./command.js')).commandCommand,
  'hash-password': async () => (await import('./hash-password.js')).hashPasswordCommand,
  profile: async () => (await import('./profile.js')).profileCommand,
  schema: async () => (await import('./schema.js')).schemaCommand,
  'new-profile': async () => (await import('./new-profile.js')).newProfileCommand,
  record: async () => (await import('./record.js')).recordCommand,
  replay: async () => (await import('./replay.js')).replayCommand,
};

async function usage(): Promise<string> {
  const commands = await Promise.all(Object.values(COMMANDS).map((load) => load()));
  return `fcgw — future-community edge gateway\n\n${commands.map((c) => c.usage).join('\n\n')}\n`;
}

/** `fcgw COMMAND [options]`: the exit code. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(await usage());
    return name ? 0 : 2;
  }
  const command = await COMMANDS[name]?.();
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
    process.stderr.write(`fcgw ${name}: ${(err as Error).message}\n${command?.usage ?? (await usage())}\n`);
    return 2;
  }
  const { values: opts, positionals } = args;
  if (!command) {
    process.stderr.write(`fcgw: unknown command "${name}"\n\n${await usage()}`);
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
