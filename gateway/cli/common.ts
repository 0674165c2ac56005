import { ConfigError, formatProblem, type ConfigProblem } from '../config/load.js';

export const DEFAULT_CONFIG = 'config/demo.yaml';

/** Options every command parses (node:util parseArgs); each command reads the ones it knows. */
export interface CliOptions {
  config?: string | undefined;
  verbose?: boolean | undefined;
  speed?: string | undefined;
  seed?: string | undefined;
  mqtt?: string | undefined;
  kpi?: boolean | undefined;
  window?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  format?: string | undefined;
  browse?: boolean | undefined;
  probe?: boolean | undefined;
  depth?: string | undefined;
  url?: string | undefined;
  json?: boolean | undefined;
  device?: string | undefined;
  for?: string | undefined;
  out?: string | undefined;
  'dry-run'?: boolean | undefined;
  key?: string | undefined;
}

/** A command: its usage text and what it does with the parsed options and positionals. */
export interface Command {
  usage: string;
  run(opts: CliOptions, positionals: string[]): Promise<number> | number;
}

/** The problems of an invalid config, one a line, as `check-config` and `start` both print them. */
export function problemsText(file: string, problems: readonly ConfigProblem[]): string {
  return `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.map(formatProblem).join('\n')}\n`;
}

/** One clear sentence on stderr; the stack only with --verbose. An invalid config exits 2. */
export function fail(err: unknown, verbose: boolean, code = 1): number {
  if (err instanceof ConfigError) {
    process.stderr.write(problemsText(err.file, err.problems));
    return 2;
  }
  const e = err as Error & { code?: string };
  process.stderr.write(`fcgw: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}
