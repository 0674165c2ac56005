import { urlCredentialWarnings } from '../config/credentials.js';
import { formatProblem } from '../config/load.js';
import { loadSite } from '../site/index.js';
import { problemsText, type Command } from './common.js';

/** `fcgw check-config FILE`: the one validation (gateway/site), nothing started. */
export const checkConfigCommand: Command = {
  usage: 'fcgw check-config FILE\n  Validate a config and every profile it names. Exit 0 valid, 2 invalid.',
  run(opts, positionals) {
    const file = positionals[0] ?? opts.config;
    if (!file) {
      process.stderr.write(`${this.usage}\n`);
      return 2;
    }
    const r = loadSite(file);
    for (const w of r.warnings ?? []) process.stderr.write(`warning: ${formatProblem(w)}\n`);
    if (!r.ok) {
      process.stderr.write(problemsText(file, r.problems));
      return 2;
    }
    process.stdout.write(`${file}: valid\n`);
    // Warnings, not problems: the config works as written (see config/credentials.ts for why).
    const warnings = urlCredentialWarnings(r.site.config);
    if (warnings.length) process.stderr.write(`${warnings.map((w) => `warning: ${w}`).join('\n')}\n`);
    return 0;
  },
};
