import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';

/**
 * The `opcua:` section of a scenario: the district energy station (区域能源站) behind one OPC UA
 * server — heat pumps charging a thermal storage tank that feeds the community's heating network,
 * the station's electricity meter and its heat meter — and the faults injected into it.
 */

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/);
/** The device's folder under Objects/EnergyStation (the profiles find nodes through it). */
const folder = z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/);

/**
 * sensor_failure: the named metrics (default: all) go Bad (BadSensorFailure).
 * comm_loss: the device's values freeze as UncertainLastUsableValue, then turn BadNoCommunication
 * after `bad_after`. uncertain: the named metrics are UncertainSensorNotAccurate.
 */
export const stationFault = z.strictObject({
  device: id,
  kind: z.enum(['sensor_failure', 'comm_loss', 'uncertain']),
  metrics: z.array(z.string()).optional(),
  /** Simulated time after the start when it begins, and how long it lasts (default: for good). */
  at: duration('0s'),
  duration: duration().optional(),
  bad_after: duration('1m'),
});

export const stationSchema = z
  .strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535),
    /** Security the server offers; None is always offered too unless `secure_only`. */
    secure_only: z.boolean().default(false),
    /** username → password accepted besides anonymous (anonymous off when `anonymous: false`). */
    users: z.record(z.string(), z.string()).default({}),
    anonymous: z.boolean().default(true),
    /** Physics step (simulated); divides one hour so that hourly ground-truth marks fall on steps. */
    step: duration('5s'),
    /** Besides each tick, the state at every multiple of this is pushed, stamped exactly (a multiple of step). */
    record_every: duration('5m'),
    /** Heating demand of the network, W per K below 18 °C outdoor. */
    building_w_per_k: z.number().positive().default(9000),
    /** Circulation pumps and controls, always on (the electricity meter sees them, the heat pumps do not). */
    aux_kw: z.number().min(0).default(4),
    /** Design flow of the heating network through the heat meter, m³/h. */
    network_flow_m3h: z.number().positive().default(25),
    heat_pumps: z
      .array(
        z.strictObject({
          id,
          folder,
          rated_kw: z.number().positive().default(80),
          /** The pump takes a write of its SG Ready input on the wire and keeps its state (a broken input: read-back fails). */
          ignore_commands: z.boolean().default(false),
        }),
      )
      .min(1)
      .max(16),
    tank: z.strictObject({ id, folder, volume_m3: z.number().positive().default(30), reference_c: z.number().default(25) }),
    electricity_meter: z.strictObject({ id, folder }),
    heat_meter: z.strictObject({ id, folder }),
    faults: z.array(stationFault).default([]),
  })
  .refine((s) => 3_600_000 % s.step === 0, { message: 'step must divide one hour (e.g. 1s, 5s, 1m)', path: ['step'] })
  .refine((s) => s.record_every % s.step === 0 && 3_600_000 % s.record_every === 0, { message: 'record_every must be a multiple of step that divides one hour', path: ['record_every'] });

export type StationScenario = z.infer<typeof stationSchema>;
export type StationFault = z.infer<typeof stationFault>;
