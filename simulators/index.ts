import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../gateway/config/schema.js';
import type { Clock } from '../gateway/model/clock.js';
import { parse } from 'yaml';
import { ScenarioError, type SimulatorContext, type SimulatorGroup, type SimulatorSectionFactory } from './core.js';
import { transportSection } from './transport/index.js';
import { energySection } from './energy/index.js';
import { opcuaSection } from './opcua/index.js';
import { devicesSection } from './profiles/index.js';
import { transitSection } from './transit/index.js';

/**
 * Scenario sections and the factories that run them; one line per simulator family.
 * A scenario file is YAML with one key per section (energy, transport, station…).
 */
export const SECTIONS: Readonly<Record<string, SimulatorSectionFactory>> = {
  transport: transportSection,
  energy: energySection,
  opcua: opcuaSection,
  devices: devicesSection,
  transit: transitSection,
};

export interface RunningSimulators {
  groups: SimulatorGroup[];
  stop(): Promise<void>;
  groundTruth(): Record<string, Record<string, unknown>>;
}

export { ScenarioError } from './core.js';

export function readScenario(file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`cannot read scenario ${file}: ${(err as Error).message}`);
  }
  if (!doc || typeof doc !== 'object') throw new ScenarioError(`scenario ${file} is empty`);
  return doc as Record<string, unknown>;
}

/** Build and start every section of a scenario that has a registered factory. */
export async function startSimulators(scenario: Record<string, unknown>, ctx: SimulatorContext): Promise<RunningSimulators> {
  const groups: SimulatorGroup[] = [];
  for (const [name, section] of Object.entries(scenario)) {
    const factory = SECTIONS[name];
    if (!factory) {
      if (name !== 'description') ctx.log.warn({ section: name }, 'scenario section has no simulator; ignored');
      continue;
    }
    groups.push(...factory(section, ctx));
  }
  // All at once: a Modbus endpoint must not wait for an MQTT broker that is slow to answer, nor
  // for the OPC UA station's certificate; if one fails, every group is stopped again (a failed
  // one may have started part of itself).
  const results = await Promise.allSettled(groups.map((g) => g.start()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    for (const g of [...groups].reverse()) await g.stop().catch(() => undefined);
    throw failed.reason;
  }
  ctx.log.info({ groups: groups.map((g) => g.name), speed: ctx.speed, seed: ctx.seed }, 'simulators running');
  return {
    groups,
    stop: async () => {
      for (const g of [...groups].reverse()) await g.stop().catch((err) => ctx.log.warn({ err, group: g.name }, 'simulator stop failed'));
    },
    groundTruth: () => Object.fromEntries(groups.map((g) => [g.name, g.groundTruth()])),
  };
}

/**
 * The simulators of a gateway config: its scenario file, at its site's place and time zone, at
 * its speed and seed unless told otherwise (`fcgw simulate --speed`), publishing to `mqttUrl`.
 */
export function startConfiguredSimulators(
  cfg: Readonly<GatewayConfig>,
  o: { clock: Clock; log: Logger; speed?: number; seed?: number; mqttUrl?: string | undefined },
): Promise<RunningSimulators> {
  return startSimulators(readScenario(resolve(cfg.simulators.scenario)), {
    clock: o.clock,
    speed: o.speed ?? cfg.simulators.speed,
    seed: o.seed ?? cfg.simulators.seed,
    log: o.log,
    site: cfg.site.id,
    latitude: cfg.site.latitude,
    longitude: cfg.site.longitude,
    timezone: cfg.site.timezone,
    ...(o.mqttUrl ? { mqttUrl: o.mqttUrl } : {}),
  });
}
