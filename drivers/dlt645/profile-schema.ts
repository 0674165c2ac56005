import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';
import { profileBase } from '../profiles/schema.js';
import { dlt645CommandSchema } from './commands.js';

/**
 * A DL/T 645 meter model as data: which identifiers it is read by and the catalog metric each
 * becomes. The value format of the standard's identifiers comes from drivers/dlt645/identifiers.ts;
 * a vendor's private identifier gives its own `format`.
 */
const format = z.strictObject({
  bytes: z.number().int().min(1).max(8),
  decimals: z.number().int().min(0).max(8),
  signed: z.boolean().default(false),
  unit: z.string(),
});

export const dlt645ProfileSchema = z.strictObject({
  ...profileBase,
  protocol: z.literal('dlt645'),
  edition: z.enum(['2007', '1997']).default('2007'),
  defaults: z.strictObject({ poll: duration('15s') }).default({ poll: 15_000 }),
  points: z
    .array(
      z.strictObject({
        metric: z.string(),
        /** DI3 DI2 DI1 DI0 (2007) or DI1 DI0 (1997), as hex digits, as the standard's tables write it. */
        di: z.string().regex(/^([0-9A-Fa-f]{4}|[0-9A-Fa-f]{8})$/, 'a data identifier is 4 (1997) or 8 (2007) hex digits'),
        format: format.optional(),
        /** Multiply after decoding (e.g. -1 for a meter wired the other way round). */
        scale: z.number().default(1),
        /** Read only every n-th poll (energy totals change slowly; a bus has little time). */
        every: z.number().int().min(1).default(1),
        /** With the device option `invert: true` (a meter wired the other way round): negate, or read as this metric instead. */
        on_invert: z.string().optional(),
      }),
    )
    .min(1),
  /** What a meter can be told (drivers/core/commands.ts): its load relay, tripped or closed, read back from status word 3. */
  commands: z.array(dlt645CommandSchema).default([]),
});
export type Dlt645Profile = z.infer<typeof dlt645ProfileSchema>;
