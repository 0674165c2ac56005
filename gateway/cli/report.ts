import { REPORT_USAGE, runReport } from '../kpi/index.js';
import { DEFAULT_CONFIG, fail, type Command } from './common.js';

/** `fcgw report --kpi`: KPIs of a window from the store. Exit 1 means a target was missed. */
export const reportCommand: Command = {
  usage: REPORT_USAGE,
  run(opts) {
    if (!opts.kpi) {
      process.stderr.write(`fcgw report: say what to report (--kpi)\n${REPORT_USAGE}\n`);
      return 2;
    }
    let res;
    try {
      res = runReport({
        config: opts.config ?? DEFAULT_CONFIG,
        ...(opts.window ? { window: opts.window } : {}),
        ...(opts.from ? { from: opts.from } : {}),
        ...(opts.to ? { to: opts.to } : {}),
        ...(opts.format ? { format: opts.format } : {}),
      });
    } catch (err) {
      // Exit 1 means "a target was missed" (runs are gated on it): any failure to report is 2.
      return fail(err, opts.verbose ?? false, 2);
    }
    process.stdout.write(res.text.endsWith('\n') ? res.text : `${res.text}\n`);
    return res.exitCode;
  },
};
