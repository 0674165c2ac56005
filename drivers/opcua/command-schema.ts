import { z } from 'zod';
import { commandSchema } from '../core/commands.js';

/** The `write` block of an OPC UA profile's command (drivers/opcua/commands.ts performs it). */

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const where = { node: z.string().optional(), path: z.string().optional() };
const oneOf = (w: { node?: string | undefined; path?: string | undefined }) => (w.node === undefined) !== (w.path === undefined);

export const DATA_TYPES = ['Boolean', 'SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float', 'Double', 'String'] as const;

export const opcuaWriteSchema = z
  .strictObject({
    ...where,
    /** The node's data type: the server refuses a value of another (BadTypeMismatch). */
    data_type: z.enum(DATA_TYPES).default('Double'),
    /** node value = command value / scale */
    scale: z.number().positive().default(1),
    /** Node value (as text) → command value, as a reading node's map (SG Ready: 1 lock … 4 force_on). */
    map: z.record(z.string(), scalar).optional(),
    /** The node value a command without a value writes (a trigger). */
    raw: scalar.optional(),
    /** Where the device shows the state the command set (default: the written node). */
    readback: z.strictObject(where).refine(oneOf, { message: 'a readback needs exactly one of `node` or `path`' }).optional(),
  })
  .refine(oneOf, { message: 'a command write needs exactly one of `node` or `path`' });
export type OpcuaWrite = z.infer<typeof opcuaWriteSchema>;

export const opcuaCommandSchema = commandSchema(opcuaWriteSchema);
