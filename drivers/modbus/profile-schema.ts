import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';
import { profileBase } from '../profiles/schema.js';
import { POINT_TYPES, WORD_ORDERS } from './codecs.js';
import { modbusCommandSchema } from './commands.js';

/**
 * The Modbus part of a device profile (YAML in drivers/profiles/, `protocol: modbus`).
 *
 * A profile lists points: where a value lives (function, address, type, order) and how it maps
 * onto a catalog metric (scale, offset, scale-factor register, enum map, bit, threshold). A
 * profile may instead (or also) describe SunSpec models: the driver discovers the model chain and
 * places each model's points at the address it finds. Points with a `class` are read only by the
 * devices of that class, so one unit can be several devices (inverter, meter, battery; heat pump
 * and its tank), each reading only its own registers.
 */

export const FUNCTIONS = ['coil', 'discrete', 'holding', 'input'] as const;
export type ModbusFunction = (typeof FUNCTIONS)[number];

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** How a decoded number becomes a metric value (shared by plain and SunSpec points). */
const mapping = {
  metric: z.string(),
  /** Only devices of this class read the point (default: every class of the profile). */
  class: z.string().optional(),
  type: z.enum(POINT_TYPES),
  order: z.enum(WORD_ORDERS).optional(),
  /** Registers of a string. */
  length: z.number().int().min(1).max(125).optional(),
  /** value = raw × scale × 10^sf + offset (SunSpec points: + add) */
  scale: z.number().optional(),
  /** Native unit (the pipeline converts to the catalog unit). */
  unit: z.string().optional(),
  /** Raw value (as text) → metric value (enum names, booleans). An unmapped raw value is bad quality. */
  map: z.record(z.string(), scalar).optional(),
  /** Take one bit of the raw value → boolean. */
  bit: z.number().int().min(0).max(63).optional(),
  /** Boolean: the scaled value is below this threshold (a battery voltage → low_battery). */
  below: z.number().optional(),
  /** Raw values that mean "not implemented" for this device, beyond the type's SunSpec sentinel. */
  not_implemented: z.array(z.number()).optional(),
  /** Check the SunSpec sentinel of the type (0x8000, 0xFFFF, NaN…). Default: true for SunSpec, false otherwise. */
  sentinel: z.boolean().optional(),
  /** Read with the slow group (counters): after writes and fast telemetry, every `slow_every` polls. */
  slow: z.boolean().optional(),
  /** When the device option `invert: true` is set: negate the value, or report it as this other metric. */
  on_invert: z.string().optional(),
  /** Nameplate data: read once per connection (after discovery and after each reconnect), not every poll. */
  once: z.boolean().optional(),
};

export const plainPoint = z.strictObject({
  ...mapping,
  function: z.enum(FUNCTIONS).optional(),
  address: z.number().int().min(0).max(65535),
  offset: z.number().optional(),
  /** Address of an int16 scale-factor register (same function): value × 10^sf. */
  scale_factor: z.number().int().min(0).max(65535).optional(),
  /** This point reads registers another point also reads, on purpose (one word decoded two ways). */
  overlap: z.boolean().optional(),
});

export const sunspecPoint = z.strictObject({
  ...mapping,
  /** Offset from the model's first register (0 = ID, 1 = L). In a repeating block: from the block start. */
  offset: z.number().int().min(0).max(65535),
  /** Added after scaling (the plain points' `offset`; here `offset` is the position). */
  add: z.number().optional(),
  /** Offset (from the model start) of the point's scale factor. */
  sf: z.number().int().min(0).max(65535).optional(),
  /** A point of a repeating block (e.g. each MPPT module): combine the blocks. */
  aggregate: z.enum(['sum', 'avg', 'max', 'min']).optional(),
  /** The SunSpec point's name in the model definition (checked against it by the table test). */
  name: z.string().optional(),
  /** Repeating block only: take the block when the uint16 at this block offset is one of `values` (714 PrtTyp). */
  when: z.strictObject({ offset: z.number().int().min(0), values: z.array(z.number().int()).min(1) }).optional(),
  /** Repeating block only: leave the block out when its string at this block offset starts with one of `prefixes` (160 IDStr). */
  unless_prefix: z.strictObject({ offset: z.number().int().min(0), length: z.number().int().min(1).max(16), prefixes: z.array(z.string().min(1)).min(1) }).optional(),
});

export const sunspecModel = z.strictObject({
  ids: z.array(z.number().int().min(1).max(65534)).min(1),
  class: z.string(),
  /** Repeating blocks: the first at offset `start`, each `size` registers; their number follows from L. */
  repeat: z.strictObject({ start: z.number().int().min(2), size: z.number().int().min(1) }).optional(),
  /** When several models give the same metric, the highest `rank` present wins (e.g. 160's DC power over 103's). */
  rank: z.number().int().default(0),
  points: z.array(sunspecPoint).min(1),
});

/** A value computed from other metrics of the same device (a tank's stored energy from its temperatures). */
export const derivedPoint = z.strictObject({
  metric: z.string(),
  class: z.string().optional(),
  formula: z.literal('tank_energy'),
  /** Metrics the formula reads. tank_energy: [top, bottom]. */
  inputs: z.array(z.string()).min(1),
  /** Device options the formula reads, with defaults: tank_energy uses volume_m3 and reference_c. */
  params: z.record(z.string(), z.number()).default({}),
  unit: z.string().optional(),
});

export const modbusProfileBody = {
  defaults: z
    .strictObject({
      function: z.enum(FUNCTIONS).default('holding'),
      order: z.enum(WORD_ORDERS).default('ABCD'),
      /** Poll period of a device without its own `poll`. */
      poll: duration('10s'),
      /** Slow points (counters) are read every this many polls. */
      slow_every: z.number().int().min(1).max(1000).default(1),
    })
    .default({ function: 'holding', order: 'ABCD', poll: 10_000, slow_every: 1 }),
  /** Request planning: the device's largest read, and the widest hole worth reading through. */
  limits: z
    .strictObject({
      max_registers: z.number().int().min(1).max(125).default(125),
      max_bits: z.number().int().min(1).max(2000).default(2000),
      max_gap: z.number().int().min(0).max(124).default(16),
    })
    .default({ max_registers: 125, max_bits: 2000, max_gap: 16 }),
  points: z.array(plainPoint).default([]),
  sunspec: z
    .strictObject({
      bases: z.array(z.number().int().min(0).max(65535)).min(1).default([40000, 0, 50000]),
      models: z.array(sunspecModel).min(1),
    })
    .optional(),
  derived: z.array(derivedPoint).default([]),
  /** What a device can be told (drivers/core/commands.ts): a register or coil written, then read back. */
  commands: z.array(modbusCommandSchema).default([]),
};

export const modbusProfileSchema = z
  .strictObject({
    ...profileBase,
    protocol: z.literal('modbus'),
    ...modbusProfileBody,
  })
  .refine((p) => p.points.length > 0 || p.sunspec !== undefined, { message: 'a modbus profile needs points or sunspec models' });

export type ModbusProfile = z.infer<typeof modbusProfileSchema>;
export type PlainPoint = z.infer<typeof plainPoint>;
export type SunSpecPointDef = z.infer<typeof sunspecPoint>;
export type SunSpecModelDef = z.infer<typeof sunspecModel>;
export type DerivedPoint = z.infer<typeof derivedPoint>;
