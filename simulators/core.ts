import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Clock } from '../gateway/model/clock.js';

/**
 * A group of simulated devices behind one real protocol server (a Modbus server, an MQTT
 * publisher, an OPC UA server). Physics lives in simulators/models (pure, seeded); a group
 * exposes it over the wire and records exact ground truth for the KPI tests.
 */
export interface SimulatorGroup {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Exact totals the simulated devices produced (energy, volume, event times…), keyed by name. */
  groundTruth(): Record<string, unknown>;
}

export interface SimulatorContext {
  /** Simulated time (accelerated by `speed`). */
  clock: Clock;
  speed: number;
  seed: number;
  log: Logger;
  site: string;
  latitude: number;
  longitude: number;
  timezone: string;
  /** MQTT broker the publishers use (the gateway's embedded one in the demo). */
  mqttUrl?: string;
}

/** Builds the groups of one scenario section (e.g. `energy`, `transport`, `station`). */
export type SimulatorSectionFactory = (section: unknown, ctx: SimulatorContext) => SimulatorGroup[];

/** A scenario (or one of its sections) that cannot be run as written. */
export class ScenarioError extends Error {
  readonly code = 'SCENARIO_INVALID';
}

/** Validate one scenario section (`section: path: message; …` when it does not fit the schema). */
export function parseSection<T extends z.ZodType>(name: string, schema: T, section: unknown): z.output<T> {
  const res = schema.safeParse(section ?? {});
  if (!res.success) throw new ScenarioError(`${name}: ${res.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return res.data;
}
