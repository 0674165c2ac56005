import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DRIVERS, driverFor } from '../drivers/index.js';
import { loadProfiles } from '../drivers/profiles/load.js';
import { Gateway } from './app.js';
import { hashPassword } from './broker/passwords.js';
import { urlCredentialWarnings } from './config/credentials.js';
import { ConfigError, formatProblem, loadConfig } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import { createLogger } from './runtime/log.js';
import { runSimulate } from './cli-simulate.js';
import { apiUrlOf, runStatus, STATUS_USAGE, StatusError } from './cli-status.js';
import { REPORT_USAGE, runReport } from './kpi/index.js';

const DEFAULT_CONFIG = 'config/demo.yaml';

const USAGE: Record<string, string> = {
  start: 'fcgw start [-c FILE] [--verbose]\n  Run the gateway (default config: config/demo.yaml). Stops cleanly on SIGINT/SIGTERM.',
  'check-config': 'fcgw check-config FILE\n  Validate a config and every profile it names. Exit 0 valid, 2 invalid.',
  simulate: 'fcgw simulate [-c FILE] [--speed N] [--seed N] [--mqtt URL]\n  Run only the simulated devices, for a gateway elsewhere.',
  explain:
    'fcgw explain -c FILE DEVICE [--probe | --browse [--depth N]]\n  Show how a device will be read: Modbus requests as planned, MQTT topics, OPC UA nodes.\n  --probe talks to the device once first, so what only it can tell is filled in (a SunSpec model chain, absolute addresses); exit 1 if it does not answer.\n  --browse walks the live OPC UA server from the device\'s folder (or, given a connection id, from Objects) to help write a profile.',
  report: REPORT_USAGE,
  status: STATUS_USAGE,
  'hash-password': 'fcgw hash-password [PASSWORD]\n  Print a scrypt hash for broker.embedded.users[].password_hash (reads stdin without an argument).',
};

function usage(): string {
  return `fcgw — future-community edge gateway\n\n${Object.values(USAGE).join('\n\n')}\n`;
}

/** One clear sentence on stderr; the stack only with --verbose. */
function fail(err: unknown, verbose: boolean, code = 1): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.file}: invalid config\n${err.problems.map(formatProblem).join('\n')}\n`);
    return 2;
  }
  const e = err as Error & { code?: string };
  process.stderr.write(`fcgw: ${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''}\n`);
  if (verbose && e.stack) process.stderr.write(`${e.stack}\n`);
  return code;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(usage());
    return command ? 0 : 2;
  }
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
      },
    });
  } catch (err) {
    process.stderr.write(`fcgw ${command}: ${(err as Error).message}\n${USAGE[command] ?? usage()}\n`);
    return 2;
  }
  const { values: opts, positionals } = args;
  if (opts.help) {
    process.stdout.write(`${USAGE[command] ?? usage()}\n`);
    return 0;
  }
  const verbose = opts.verbose ?? false;
  try {
    switch (command) {
      case 'start':
        return await start(opts.config ?? DEFAULT_CONFIG, verbose);
      case 'check-config':
        return checkConfig(positionals[0] ?? opts.config);
      case 'simulate':
        return await runSimulate({
          config: loadConfig(opts.config ?? DEFAULT_CONFIG),
          ...(opts.speed ? { speed: Number(opts.speed) } : {}),
          ...(opts.seed ? { seed: Number(opts.seed) } : {}),
          ...(opts.mqtt ? { mqtt: opts.mqtt } : {}),
        });
      case 'explain':
        if (opts.browse) return await browse(opts.config ?? DEFAULT_CONFIG, positionals[0], opts.depth ? Number(opts.depth) : undefined);
        return await explain(opts.config ?? DEFAULT_CONFIG, positionals[0], opts.probe === true);
      case 'hash-password':
        return hashPasswordCommand(positionals[0]);
      case 'status': {
        const config = opts.url ? undefined : loadConfig(opts.config ?? DEFAULT_CONFIG);
        const token = config?.api.tokens[0] ?? process.env['FCGW_API_TOKEN'];
        try {
          const res = await runStatus({ url: opts.url ?? apiUrlOf(config as GatewayConfig), ...(token ? { token } : {}), json: opts.json === true });
          process.stdout.write(`${res.text}\n`);
          return res.exitCode;
        } catch (err) {
          if (err instanceof StatusError) {
            process.stderr.write(`fcgw status: ${err.message}\n`);
            return 2;
          }
          throw err;
        }
      }
      case 'report': {
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
          return fail(err, verbose, 2);
        }
        process.stdout.write(res.text.endsWith('\n') ? res.text : `${res.text}\n`);
        return res.exitCode;
      }
      default:
        process.stderr.write(`fcgw: unknown command "${command}"\n\n${usage()}`);
        return 2;
    }
  } catch (err) {
    return fail(err, verbose);
  }
}

async function start(file: string, verbose: boolean): Promise<number> {
  const config = loadConfig(file);
  const log = createLogger({
    level: verbose ? 'debug' : config.logging.level,
    ...(config.logging.pretty !== undefined ? { pretty: config.logging.pretty } : {}),
  });
  let gw = Gateway.create({ config, log });
  let stopping: Promise<void> | undefined;
  let reloading: Promise<void> | undefined;
  let exitCode = 0;
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  const stopOnce = (after: Promise<unknown>) => {
    stopping ??= after.then(() => gw.stop()).finally(markStopped);
  };
  const shutdown = (signal: string) => {
    if (stopping) return;
    log.info({ signal }, 'shutting down');
    stopOnce(reloading ?? Promise.resolve());
  };
  // SIGHUP: validate the whole new config (and the profiles it names) first; a config with a
  // problem is refused and the running one stays. A change to connections, devices, discovery
  // rules or profiles is applied per connection: only the links that changed restart, the others
  // keep polling; new targets or sinks replace the KPI engine or the sinks alone. Any other change
  // restarts the gateway in place: the store keeps every committed reading, sinks resume from
  // their cursors, devices that were mid-message send again what was not acknowledged.
  let running = config;
  const reload = () => {
    if (stopping || reloading) return;
    reloading = (async () => {
      const problems = checkConfigProblems(file);
      if (problems.length) {
        log.error({ file, problems }, 'config reload refused; the running config stays');
        return;
      }
      const next = loadConfig(file);
      let outcome: Awaited<ReturnType<Gateway['reconfigure']>>;
      try {
        outcome = await gw.reconfigure(next);
      } catch (err) {
        log.error({ err, file }, 'config reload refused; the running config stays');
        return;
      }
      if (outcome.applied) {
        running = next;
        log.info({ file, restarted: outcome.restarted, unchanged: outcome.unchanged, kpi: outcome.kpi, sinks: outcome.sinks }, 'config applied per connection');
        return;
      }
      log.info({ file, why: outcome.reason }, 'config reload: restarting with the new config');
      await gw.stop();
      gw = Gateway.create({ config: next, log });
      try {
        await gw.start();
        running = next;
        log.info({ file, api: gw.apiUrl }, 'config reloaded');
      } catch (err) {
        log.error({ err }, 'the new config did not start; going back to the previous one');
        await gw.stop().catch(() => undefined);
        gw = Gateway.create({ config: running, log });
        await gw.start();
      }
    })()
      .catch((err: unknown) => {
        log.fatal({ err }, 'the gateway could not be restarted after a reload');
        exitCode = 1;
        stopOnce(Promise.resolve());
      })
      .finally(() => {
        reloading = undefined;
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGHUP', reload);
  // Last resort: an error nothing caught (a socket 'error' with no listener deep in a library)
  // goes to the structured log with its stack, then the gateway stops as cleanly as it can
  // within 10 s and exits 1, for the supervisor (systemd, compose's restart policy) to start it
  // again. Carrying on after an unknown failure could leave a link silently dead; everything
  // committed is in the store and devices resend what was not acknowledged.
  const crash = (kind: string) => (err: unknown) => {
    log.fatal({ err, kind }, 'unexpected error: the gateway stops and exits 1');
    exitCode = 1;
    setTimeout(() => process.exit(1), 10_000).unref();
    stopOnce(reloading ?? Promise.resolve());
  };
  process.on('uncaughtException', crash('uncaughtException'));
  process.on('unhandledRejection', crash('unhandledRejection'));
  try {
    await gw.start();
  } catch (err) {
    return fail(err, verbose);
  }
  process.stderr.write(
    `\nfcgw: ${config.site.name ?? config.site.id} is running.\n  dashboard   ${gw.apiUrl}/\n  health      ${gw.apiUrl}/api/health\n  latest      ${gw.apiUrl}/api/latest\n  metrics     ${gw.apiUrl}/metrics\n${gw.broker ? `  mqtt        ${gw.broker.url}\n` : ''}  reload      kill -HUP ${process.pid}\n  stop        Ctrl-C\n\n`,
  );
  await stopped;
  return exitCode;
}

export function checkConfigProblems(file: string): string[] {
  let config: Readonly<GatewayConfig>;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  const problems: string[] = [];
  const { profiles, problems: profileProblems } = loadProfiles(DRIVERS);
  const named = new Set([...config.devices.map((d) => d.profile), ...config.discover.map((r) => r.profile)]);
  for (const p of profileProblems) {
    if (named.has(p.file.replace(/^.*\//, '').replace(/\.ya?ml$/, ''))) problems.push(`${p.file}: ${formatProblem(p)}`);
  }
  config.devices.forEach((d, i) => {
    const profile = profiles.get(d.profile);
    if (!profile && profileProblems.some((p) => p.file.endsWith(`/${d.profile}.yaml`))) return;
    if (!profile) problems.push(`devices[${i}].profile: no profile "${d.profile}" (known: ${[...profiles.keys()].join(', ') || 'none'})`);
    else if (!profile.classes.includes(d.class))
      problems.push(`devices[${i}].class: profile "${d.profile}" serves ${profile.classes.join(', ')}, not ${d.class}`);
  });
  config.discover.forEach((r, i) => {
    if (!profiles.has(r.profile)) problems.push(`discover[${i}].profile: no profile "${r.profile}"`);
  });
  config.connections.forEach((c, i) => {
    if (!driverFor(c.protocol)) problems.push(`connections[${i}].protocol: no driver for ${c.protocol} in this build`);
  });
  return problems;
}

function checkConfig(file: string | undefined): number {
  if (!file) {
    process.stderr.write(`${USAGE['check-config']}\n`);
    return 2;
  }
  const problems = checkConfigProblems(file);
  if (problems.length) {
    process.stderr.write(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'}\n${problems.join('\n')}\n`);
    return 2;
  }
  process.stdout.write(`${file}: valid\n`);
  // Warnings, not problems: the config works as written (see config/credentials.ts for why).
  const warnings = urlCredentialWarnings(loadConfig(file));
  if (warnings.length) process.stderr.write(`${warnings.map((w) => `warning: ${w}`).join('\n')}\n`);
  return 0;
}

async function explain(file: string, deviceId: string | undefined, probe: boolean): Promise<number> {
  if (!deviceId) {
    process.stderr.write(`${USAGE['explain']}\n`);
    return 2;
  }
  const config = loadConfig(file);
  const log = createLogger({ level: 'warn' });
  const gw = Gateway.create({ config, log, processMetrics: false });
  if (probe && config.devices.some((d) => d.id === deviceId)) {
    const { lines, ok } = await gw.probeDevice(deviceId);
    process.stdout.write(`${lines.join('\n')}\n`);
    return ok ? 0 : 1;
  }
  const lines = gw.explainDevice(deviceId);
  // A device that is neither configured nor fits a discover rule's id template: a usage error.
  if (lines[0]?.startsWith('no device')) {
    process.stderr.write(`fcgw: ${lines[0]} (${file})\n`);
    return 2;
  }
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `explain --browse`: walk a live server from a device's place in it (or a connection's top). */
async function browse(file: string, target: string | undefined, depth: number | undefined): Promise<number> {
  if (!target) {
    process.stderr.write(`${USAGE['explain']}\n`);
    return 2;
  }
  const config = loadConfig(file);
  const gw = Gateway.create({ config, log: createLogger({ level: 'warn' }), processMetrics: false });
  const device = config.devices.find((d) => d.id === target);
  const conn = config.connections.find((c) => c.id === (device ? device.connection : target));
  const factory = conn ? driverFor(conn.protocol) : undefined;
  if (!conn || !factory?.browse) {
    process.stderr.write(`fcgw: ${target} is neither a device nor a connection that can be browsed (OPC UA) in ${file}\n`);
    return 2;
  }
  const profile = device ? gw.profiles.get(device.profile) : undefined;
  const lines = await factory.browse({ connection: conn, dataDir: gw.dataDir, ...(device ? { device } : {}), ...(profile ? { profile } : {}), ...(depth ? { depth } : {}) });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function hashPasswordCommand(arg: string | undefined): number {
  const password = arg ?? readFileSync(0, 'utf8').replace(/\r?\n$/, '');
  if (password.length < 8) {
    process.stderr.write('fcgw: a password needs at least 8 characters\n');
    return 2;
  }
  process.stdout.write(`${hashPassword(password)}\n`);
  return 0;
}
