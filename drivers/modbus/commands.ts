import { z } from 'zod';
import { commandProblems, commandSchema, commandsOf, findCommand, type CommandDef, type CommandResult, type CommandValue } from '../core/commands.js';
import type { DriverProblem } from '../core/driver.js';
import { decodeWords, encodeWords, POINT_TYPES, WORD_ORDERS, wordsOf, type RawValue } from './codecs.js';

/**
 * Modbus commands: a value written to a holding register (FC 6/16) or a coil (FC 5), encoded by
 * the same codec table the reads use, and read back from the register the device reports its
 * state in (by default the one written). The read-back is decoded like a reading (scale, map), so
 * the gateway compares it with what was asked.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const place = { function: z.enum(['holding', 'coil', 'input', 'discrete']), address: z.number().int().min(0).max(65535) };

export const modbusWriteSchema = z.strictObject({
  function: z.enum(['holding', 'coil']),
  address: z.number().int().min(0).max(65535),
  type: z.enum(POINT_TYPES).default('uint16'),
  order: z.enum(WORD_ORDERS).optional(),
  /** register = value / scale */
  scale: z.number().positive().default(1),
  /** Raw value (as text) → command value, as a point's map (SG Ready: 1 lock … 4 force_on). */
  map: z.record(z.string(), scalar).optional(),
  /** The raw value a command without a value writes (a trigger). */
  raw: z.number().int().optional(),
  /** Where the device shows the state the command set (default: the written register). */
  readback: z.strictObject(place).optional(),
});
export type ModbusWrite = z.infer<typeof modbusWriteSchema>;

export const modbusCommandSchema = commandSchema(modbusWriteSchema);

export class ModbusCommandError extends Error {
  constructor(
    readonly code: 'MODBUS_COMMAND_UNKNOWN' | 'MODBUS_COMMAND_VALUE',
    message: string,
  ) {
    super(message);
  }
}

/** The raw value a command value becomes (before encoding into words). */
export function rawOf(w: ModbusWrite, value: CommandValue): RawValue {
  if (w.map) {
    const key = Object.keys(w.map).find((k) => w.map?.[k] === value);
    if (key === undefined) throw new ModbusCommandError('MODBUS_COMMAND_VALUE', `no register value for ${String(value)}`);
    return Number(key);
  }
  if (value === null) {
    if (w.raw === undefined) throw new ModbusCommandError('MODBUS_COMMAND_VALUE', 'this command has no raw value to write');
    return w.raw;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Math.round(value / w.scale);
  throw new ModbusCommandError('MODBUS_COMMAND_VALUE', `a modbus command cannot write the text "${value}"`);
}

/** The words a command writes. */
export function wordsFor(w: ModbusWrite, value: CommandValue): number[] {
  const raw = rawOf(w, value);
  if (w.function === 'coil') return [raw === true || Number(raw) !== 0 ? 1 : 0];
  return encodeWords(w.type, raw, w.order ? { order: w.order } : {});
}

/** How many registers (or bits) the read-back reads. */
export function readbackCount(w: ModbusWrite): number {
  const fn = w.readback?.function ?? w.function;
  return fn === 'coil' || fn === 'discrete' ? 1 : wordsOf(w.type);
}

/** The read-back words (or bits) as the command value they mean. */
export function decodeReadback(w: ModbusWrite, def: CommandDef, words: readonly number[]): NonNullable<CommandResult['readBack']> | null {
  const fn = w.readback?.function ?? w.function;
  if (fn === 'coil' || fn === 'discrete') {
    const on = (words[0] ?? 0) !== 0;
    return def.value.type === 'boolean' ? on : on ? 1 : 0;
  }
  const d = decodeWords(w.type, words, { sentinel: false, ...(w.order ? { order: w.order } : {}) });
  if (d.value === null) return null;
  if (w.map) return w.map[String(d.value)] ?? null;
  const n = Number(d.value);
  if (def.value.type === 'boolean') return n !== 0;
  return n * w.scale;
}

/** The Modbus part of a device's command, or an error naming what is missing. */
export function modbusCommand(profile: object, cls: string, name: string): { def: CommandDef; write: ModbusWrite } {
  const def = findCommand(profile, cls, name);
  if (!def) throw new ModbusCommandError('MODBUS_COMMAND_UNKNOWN', `no command ${name} for a ${cls}`);
  return { def, write: def.write as ModbusWrite };
}

/** Checks of a Modbus profile's commands beyond their schema. */
export function modbusCommandProblems(profile: object & { classes: readonly string[] }): DriverProblem[] {
  const out: DriverProblem[] = commandProblems(profile);
  commandsOf(profile).forEach((c, i) => {
    const w = c.write as ModbusWrite;
    const at = (k: string, message: string) => out.push({ path: ['commands', i, 'write', k], message });
    if (c.value.type === 'enum' && !w.map) at('map', 'an enum command needs a map from register values to its values');
    if (w.map && c.value.type === 'enum') for (const v of c.value.values) if (!Object.values(w.map).includes(v)) at('map', `no register value for ${v}`);
    if (c.value.type === 'none' && w.raw === undefined) at('raw', 'a command without a value needs the raw value it writes');
    if (c.value.type === 'string') out.push({ path: ['commands', i, 'value'], message: 'a modbus command cannot take text' });
    if (w.function === 'coil' && c.value.type !== 'boolean' && c.value.type !== 'none') at('function', 'a coil takes a boolean command');
    if (c.value.type === 'none' && w.readback === undefined) at('readback', 'a trigger needs a register that shows what it did (readback)');
  });
  return out;
}
