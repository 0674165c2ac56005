import { Gateway } from '../app.js';
import { formatProblem } from '../config/load.js';
import { createLogger } from '../runtime/log.js';
import { loadSite, type ResolvedSite } from '../site/index.js';
import { DEFAULT_CONFIG, fail, problemsText, type Command } from './common.js';

/**
 * `fcgw start`: the one validation (the same as check-config, the same problems), then the
 * gateway; SIGHUP validates the file again the same way before anything changes.
 */
export const startCommand: Command = {
  usage: 'fcgw start [-c FILE] [--verbose]\n  Run the gateway (default config: config/demo.yaml). Stops cleanly on SIGINT/SIGTERM.',
  run: (opts) => start(opts.config ?? DEFAULT_CONFIG, opts.verbose ?? false),
};

async function start(file: string, verbose: boolean): Promise<number> {
  const first = loadSite(file);
  if (!first.ok) {
    process.stderr.write(problemsText(file, first.problems));
    return 2;
  }
  const config = first.site.config;
  const log = createLogger({
    level: verbose ? 'debug' : config.logging.level,
    ...(config.logging.pretty !== undefined ? { pretty: config.logging.pretty } : {}),
  });
  for (const w of first.warnings ?? []) log.warn({ file: w.file, line: w.line }, formatProblem(w));
  let gw = Gateway.create({ config, site: first.site, log, reload: () => reload() });
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
  let running: ResolvedSite = first.site;
  const reload = () => {
    if (stopping || reloading) return;
    reloading = (async () => {
      const r = loadSite(file);
      if (!r.ok) {
        log.error({ file, problems: r.problems.map(formatProblem) }, 'config reload refused; the running config stays');
        return;
      }
      const next = r.site;
      let outcome: Awaited<ReturnType<Gateway['reconfigure']>>;
      try {
        outcome = await gw.reconfigure(next);
      } catch (err) {
        if ((err as { code?: string }).code === 'RELOAD_ROLLBACK_FAILED') {
          // Part of the running gateway could not be put back in place: restart it whole on the
          // running config (the store keeps everything; sinks resume from their cursors).
          log.error({ err, file }, 'config reload failed and could not be undone in place; restarting with the running config');
          await gw.stop().catch(() => undefined);
          gw = Gateway.create({ config: running.config, site: running, log, reload: () => reload() });
          await gw.start();
          return;
        }
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
      gw = Gateway.create({ config: next.config, site: next, log, reload: () => reload() });
      try {
        await gw.start();
        running = next;
        log.info({ file, api: gw.apiUrl }, 'config reloaded');
      } catch (err) {
        log.error({ err }, 'the new config did not start; going back to the previous one');
        await gw.stop().catch(() => undefined);
        gw = Gateway.create({ config: running.config, site: running, log, reload: () => reload() });
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
