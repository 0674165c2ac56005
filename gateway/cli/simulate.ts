import { loadSite, siteOrThrow } from '../site/index.js';
import { DEFAULT_CONFIG, type Command } from './common.js';
import { dialHost } from '../model/hosts.js';
import { startConfiguredSimulators } from '../../simulators/index.js';
import type { GatewayConfig } from '../config/schema.js';
import { AcceleratedClock } from '../model/clock.js';
import { createLogger } from '../runtime/log.js';

/** `fcgw simulate`: only the simulated devices, speaking to a gateway (or broker) elsewhere. */
export async function runSimulate(opts: { config: Readonly<GatewayConfig>; speed?: number; seed?: number; mqtt?: string }): Promise<number> {
  const cfg = opts.config;
  const log = createLogger({ level: cfg.logging.level });
  const speed = opts.speed ?? cfg.simulators.speed;
  const seed = opts.seed ?? cfg.simulators.seed;
  if (!Number.isFinite(speed) || speed <= 0) throw new Error('--speed must be a positive number');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  const mqttUrl =
    opts.mqtt ??
    (cfg.broker.embedded ? `mqtt://${dialHost(cfg.broker.embedded.host)}:${cfg.broker.embedded.port}` : undefined);
  const clock = new AcceleratedClock(cfg.simulators.start ? Date.parse(cfg.simulators.start) : Date.now(), speed);
  const sims = await startConfiguredSimulators(cfg, { clock, speed, seed, log, mqttUrl });
  await new Promise<void>((done) => {
    const stop = () => void sims.stop().then(done);
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

export const simulateCommand: Command = {
  usage: 'fcgw simulate [-c FILE] [--speed N] [--seed N] [--mqtt URL]\n  Run only the simulated devices, for a gateway elsewhere.',
  run: (opts) =>
    runSimulate({
      config: siteOrThrow(loadSite(opts.config ?? DEFAULT_CONFIG), opts.config ?? DEFAULT_CONFIG).config,
      ...(opts.speed ? { speed: Number(opts.speed) } : {}),
      ...(opts.seed ? { seed: Number(opts.seed) } : {}),
      ...(opts.mqtt ? { mqtt: opts.mqtt } : {}),
    }),
};
