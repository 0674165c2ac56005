import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';
import { modbusFaultSchema } from '../servers/modbus-units.js';

/** The `energy:` section of a scenario: Modbus endpoints, the units behind them, and the physics. */

const ENERGY_MODELS = ['pv', 'grid', 'battery', 'heat_pump', 'tank', 'water', 'household'] as const;
export type EnergyModelKind = (typeof ENERGY_MODELS)[number];

const device = z.strictObject({
  /** The gateway's device id (ground truth is keyed by it). */
  id: z.string(),
  model: z.enum(ENERGY_MODELS),
  kwp: z.number().positive().default(50),
  capacity_kwh: z.number().positive().default(200),
  power_kw: z.number().positive().default(100),
  rated_kw: z.number().positive().default(40),
  volume_m3: z.number().positive().default(5),
  m3_per_day: z.number().positive().default(50),
  kind: z.enum(['potable', 'reclaimed', 'rainwater', 'hot']).default('potable'),
  /** A household (or a building's) sub-meter: its mean load, kW, on a daily curve of its own. */
  mean_kw: z.number().positive().default(0.8),
  /** Mounted the other way round: the registers carry the opposite sign (the gateway config says `invert: true`). */
  invert: z.boolean().default(false),
  /** Counters start here (lifetime before the simulation) and wrap at `counter_modulo` (rollover). */
  counter_offset: z.number().min(0).optional(),
  counter_modulo: z.number().positive().optional(),
  /** The device acknowledges commands on the wire but does not act on them (a broken SG Ready interface). */
  ignore_commands: z.boolean().default(false),
  /** Metrics this device answers with the not-implemented sentinel. */
  not_implemented: z.array(z.string()).default([]),
});

const unit = z.strictObject({
  unit: z.number().int().min(1).max(247),
  profile: z.string(),
  sunspec: z.strictObject({ models: z.array(z.number().int()).min(1), mppt: z.number().int().min(1).max(8).default(2), base: z.number().int().default(40000) }).optional(),
  devices: z.array(device).min(1),
  fault: modbusFaultSchema.optional(),
});

const endpoint = z.strictObject({
  name: z.string(),
  framing: z.enum(['tcp', 'rtu-over-tcp']),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  units: z.array(unit).min(1),
});

/**
 * An RS-485 bus of Chinese-standard meters behind a serial-device server (transparent TCP): DL/T
 * 645 electricity meters or CJ/T 188 water meters, each addressed by the number on its label.
 */
const busMeter = z.strictObject({
  address: z.string(),
  /** CJ/T 188 meter type (cold_water, hot_water, drinking_water, reclaimed_water, heat…). */
  meter_type: z.string().default('cold_water'),
  device: device,
  /** This meter never answers (a dead meter on the bus). */
  silent: z.boolean().default(false),
  /** Its answers carry a wrong check byte (a noisy line or a failing transceiver). */
  bad_checksum: z.boolean().default(false),
  /** DL/T 645: the password its load relay obeys (remote control, C = 0x1C); a tripped meter measures no power. */
  password: z.string().regex(/^\d{6}$/).default('000000'),
});

const bus = z.strictObject({
  name: z.string(),
  protocol: z.enum(['dlt645', 'cjt188']),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(1).max(65535),
  /** Wire time of the bus (11 bits a byte); 0 answers at once. */
  baud: z.number().int().min(0).default(2400),
  meters: z.array(busMeter).min(1),
});

export const energySchema = z.strictObject({
  /** Longest simulated integration step. */
  step: duration('5s'),
  /** Mean electrical base load of the community, kW. */
  load_kw: z.number().min(0).default(150),
  cloudiness: z.number().min(0).max(1).default(0.3),
  endpoints: z.array(endpoint).default([]),
  buses: z.array(bus).default([]),
});

export type EnergyScenario = z.infer<typeof energySchema>;
export type EnergyDevice = z.infer<typeof device>;
export type EnergyEndpoint = z.infer<typeof endpoint>;
export type EnergyBus = z.infer<typeof bus>;
