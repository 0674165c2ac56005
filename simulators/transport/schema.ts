import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';
import { FAULT_KINDS } from './faults.js';

/** The `transport:` section of a scenario: community sizes, rhythms' knobs and injected faults. */
export const transportSchema = z.strictObject({
  parking: z
    .strictObject({
      spaces: z.number().int().min(0).max(10_000).default(300),
      chargers: z.number().int().min(0).default(40),
      heartbeat: duration('10m'),
      /** Chargers speak OCPP 1.6-J to this central system (ws://host:port<path>/<id>), ids "001"…; else OCPP bodies on MQTT. */
      ocpp: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(1).max(65_535), path: z.string().default('/ocpp'), password: z.string().optional() }).optional(),
    })
    .default({ spaces: 300, chargers: 40, heartbeat: 600_000 }),
  gates: z.number().int().min(0).max(20).default(2),
  garage: z
    .strictObject({ spaces: z.number().int().min(0).max(5000).default(120), lifts: z.number().int().min(1).max(20).default(2), enabled: z.boolean().default(true) })
    .default({ spaces: 120, lifts: 2, enabled: true }),
  lockers: z
    .strictObject({ banks: z.number().int().min(0).max(100).default(4), compartments: z.number().int().min(1).max(500).default(60), parcels_per_day: z.number().min(0).default(300) })
    .default({ banks: 4, compartments: 60, parcels_per_day: 300 }),
  doors: z.number().int().min(0).max(500).default(12),
  water: z
    .strictObject({
      potable: z.number().int().min(0).default(30),
      reclaimed: z.number().int().min(0).default(6),
      rainwater: z.number().int().min(0).default(4),
      leak_chance_per_day: z.number().min(0).max(1).default(0.02),
    })
    .default({ potable: 30, reclaimed: 6, rainwater: 4, leak_chance_per_day: 0.02 }),
  faults: z.strictObject(Object.fromEntries(FAULT_KINDS.map((k) => [k, z.number().min(0).max(0.5).optional()])) as Record<(typeof FAULT_KINDS)[number], z.ZodOptional<z.ZodNumber>>).default({}),
  /**
   * Late data as devices really send it (#19), off by default: couriers' handhelds that sync
   * their "delivered" events every `parcel_sync` (e.g. 1h) instead of live; a garage whose second
   * bay reports its hand-overs `garage_bay_delay` late (out of order with the first bay); a
   * LoRaWAN water meter (`meter`, 1-based) offline `for` from `at` after the start, buffering its
   * uplinks and replaying them when it is back. Every late message keeps its own timestamp.
   */
  late: z
    .strictObject({
      parcel_sync: duration('0s'),
      garage_bay_delay: duration('0s'),
      water_outage: z.strictObject({ meter: z.number().int().min(1).default(1), at: duration('1h'), for: duration('24h') }).optional(),
    })
    .default({ parcel_sync: 0, garage_bay_delay: 0 }),
  /** Simulated time between forced publisher disconnects ("broker restarts"); omit for none. */
  broker_restart_every: duration().optional(),
  /** Wall-clock ms between publishing rounds. */
  tick: duration('250ms'),
});

export type TransportScenario = z.infer<typeof transportSchema>;
