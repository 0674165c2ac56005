import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';
import { profileBase } from '../profiles/schema.js';
import { cjt188CommandSchema } from './control.js';
import { METER_TYPE } from './frame.js';

/**
 * A CJ/T 188 meter model as data: its meter type, the identifier byte order it expects, and which
 * fields of the metering-data reply become which catalog metrics (fields: drivers/cjt188/bodies.ts).
 */
export const CJT188_FIELDS = {
  water: ['volume_total', 'volume_settlement', 'valve_closed', 'valve_fault', 'low_battery'],
  heat: ['heat_settlement', 'heat_total', 'thermal_power', 'flow', 'volume_total', 'supply_temp', 'return_temp', 'working_hours', 'valve_closed', 'valve_fault', 'low_battery'],
} as const;

export const cjt188ProfileSchema = z.strictObject({
  ...profileBase,
  protocol: z.literal('cjt188'),
  meter_type: z.enum(Object.keys(METER_TYPE) as [keyof typeof METER_TYPE, ...(keyof typeof METER_TYPE)[]]),
  /** `msb_first` sends the identifier as the standard writes it (90 1F); some meters want 1F 90. */
  di_order: z.enum(['msb_first', 'lsb_first']).default('msb_first'),
  defaults: z.strictObject({ poll: duration('15m') }).default({ poll: 900_000 }),
  points: z
    .array(
      z.strictObject({
        metric: z.string(),
        field: z.string(),
        scale: z.number().default(1),
      }),
    )
    .min(1),
  /** What a meter can be told (drivers/core/commands.ts): its valve, opened or closed, read back from ST. */
  commands: z.array(cjt188CommandSchema).default([]),
});
export type Cjt188Profile = z.infer<typeof cjt188ProfileSchema>;

export function bodyKind(type: keyof typeof METER_TYPE): keyof typeof CJT188_FIELDS | undefined {
  if (type === 'heat' || type === 'cold') return 'heat';
  if (type === 'electricity') return undefined;
  return 'water';
}
