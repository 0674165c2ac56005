import { z } from 'zod';
import { duration, strict } from '../model/zod-helpers.js';

/**
 * The `control:` section of the config: how commands to devices are guarded (gateway/control).
 * Commands themselves are data in the devices' profiles (drivers/core/commands.ts).
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * While `when` holds on a device's latest value, commands to `devices` are refused with `reason`.
 * A value older than `max_age` (or none at all) counts as holding: an interlock fails safe.
 */
const interlock = strict({
  devices: z.array(z.string()).min(1),
  /** Commands it holds (default: every command of those devices). */
  commands: z.array(z.string()).default([]),
  when: strict({
    device: z.string(),
    metric: z.string(),
    above: z.number().optional(),
    below: z.number().optional(),
    equals: scalar.optional(),
  }).refine((w) => w.above !== undefined || w.below !== undefined || w.equals !== undefined, { message: 'give above, below or equals' }),
  max_age: duration('10m'),
  reason: z.string().min(1).max(200),
});

/**
 * Surplus control (off by default): when the grid meter shows export above `export_w` for `for`,
 * heat pumps go to SG Ready "recommend" and batteries charge; on import above `import_w` they go
 * back. Comfort and state-of-charge bounds and each command's dwell are respected; every decision
 * is logged with its reason.
 */
const surplus = strict({
  enabled: z.boolean().default(false),
  /** The grid connection's meter (class grid_meter: power + import, − export). */
  grid_meter: z.string().optional(),
  export_w: z.number().positive().default(5000),
  import_w: z.number().min(0).default(1000),
  for: duration('5m'),
  every: duration('1m'),
  /** A value older than this is no value: the rule holds back (and releases what it set). */
  max_age: duration('15m'),
  heat_pumps: z
    .array(
      strict({
        device: z.string(),
        /** The buffer tank it charges and the temperature that must stay within max_c (comfort and safety). */
        tank: z.string().optional(),
        tank_metric: z.string().default('top_temp'),
        max_c: z.number().default(58),
      }),
    )
    .default([]),
  batteries: z
    .array(
      strict({
        device: z.string(),
        /** Charge no further than this state of charge, %. */
        soc_max: z.number().min(0).max(100).default(95),
        /** Never let surplus control take it below this, %. */
        soc_min: z.number().min(0).max(100).default(20),
        /** Charging power asked for, W (clamped to the export seen and the device's rating). */
        charge_w: z.number().positive().default(10_000),
      }),
    )
    .default([]),
});

export const controlSchema = strict({
  /** Commands are checked and audited but never sent (as every request's `dry_run`). */
  dry_run: z.boolean().default(false),
  /** Commands per device per minute, counted over a sliding minute (refusals included). */
  rate_per_minute: z.number().int().min(1).max(600).default(6),
  interlocks: z.array(interlock).default([]),
  surplus: surplus.default(surplus.parse({})),
});

export type ControlConfig = z.infer<typeof controlSchema>;
export type InterlockConfig = ControlConfig['interlocks'][number];
export type SurplusConfig = ControlConfig['surplus'];
