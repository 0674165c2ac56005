import { z } from 'zod';
import { duration } from '../../gateway/model/zod-helpers.js';

/**
 * What a device can be told, as data in its profile (`commands:`). The protocol-independent part
 * lives here: the command's name, the value it takes (typed and bounded), how long a change must
 * stand before the next one (dwell), and how the result is verified. Each driver adds the `write`
 * block of its protocol (a Modbus register or coil, an MQTT topic and payload) through
 * `commandSchema(write)`, and performs it (`Driver.command`). The gateway's control service
 * (gateway/control) checks callers, bounds, interlocks and rates before a driver sees a command.
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

/** The value a command takes. `none`: an action without a value (open a barrier). */
export const commandValueSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('boolean') }),
  z.strictObject({ type: z.literal('enum'), values: z.array(z.string().min(1)).min(1) }),
  z.strictObject({
    type: z.literal('number'),
    /** Bounds in `unit`; `rating` (a device option) narrows them to ± the device's rating. */
    min: z.number(),
    max: z.number(),
    unit: z.string().optional(),
    /** Whole numbers only. */
    integer: z.boolean().default(false),
    /** A device option holding the device's rating (a battery's power in W): |value| ≤ the option. Required on the device. */
    rating: z.string().optional(),
  }),
  z.strictObject({
    type: z.literal('string'),
    /** Anchored regular expression the value must match (a compartment label: `^[A-Z]-\d{1,3}$`). */
    pattern: z.string(),
    max_length: z.number().int().min(1).max(64).default(32),
  }),
]);
export type CommandValueSpec = z.infer<typeof commandValueSchema>;

/**
 * How the gateway knows the device did it. A driver that can read the state back (Modbus, OPC UA)
 * does so itself (its `readback`); otherwise the device must report it: an event of this type
 * (with `attribute` equal to the commanded value, when given) or this metric equal to the value,
 * after the command was sent and within the deadline.
 */
export const verifySchema = z.strictObject({
  deadline: duration('5s'),
  event: z.string().optional(),
  attribute: z.string().optional(),
  metric: z.string().optional(),
});

/** A command of a profile, with its driver's `write` block. */
export function commandSchema<W extends z.ZodType>(write: W) {
  return z.strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_]*$/, 'a command name is lower_snake_case'),
    description: z.string().optional(),
    /** Only devices of this class take the command (default: every class of the profile). */
    class: z.string().optional(),
    value: commandValueSchema,
    /** Minimum time between two changes of this command on one device (SG Ready must not flap). */
    dwell: duration('0s'),
    verify: verifySchema.default({ deadline: 5000 }),
    write,
  });
}

export type CommandValue = string | number | boolean | null;

export interface CommandDef {
  name: string;
  description?: string | undefined;
  class?: string | undefined;
  value: CommandValueSpec;
  dwell: number;
  verify: z.infer<typeof verifySchema>;
  write: unknown;
}

/** The commands a profile declares (every protocol's profile may have `commands`). */
export function commandsOf(profile: object): readonly CommandDef[] {
  const c = (profile as { commands?: unknown }).commands;
  return Array.isArray(c) ? (c as CommandDef[]) : [];
}

/** A device's command by name (for its class), or undefined. */
export function findCommand(profile: object, cls: string, name: string): CommandDef | undefined {
  return commandsOf(profile).find((c) => c.name === name && (c.class === undefined || c.class === cls));
}

export type ValueCheck = { ok: true; value: CommandValue } | { ok: false; message: string; bound?: string };

/**
 * Check a requested value against its command's type and bounds; `options` are the device's
 * (a `rating`). The message names the bound, so a caller knows what is allowed.
 */
export function checkValue(spec: CommandValueSpec, value: unknown, options: Readonly<Record<string, unknown>> = {}): ValueCheck {
  switch (spec.type) {
    case 'none':
      return value === undefined || value === null ? { ok: true, value: null } : { ok: false, message: 'this command takes no value', bound: 'none' };
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, message: 'value must be true or false', bound: 'boolean' };
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? { ok: true, value }
        : { ok: false, message: `value must be one of ${spec.values.join(', ')}`, bound: spec.values.join('|') };
    case 'number': {
      let { min, max } = spec;
      if (spec.rating !== undefined) {
        const r = options[spec.rating];
        if (typeof r === 'number' && r > 0) {
          min = Math.max(min, -r);
          max = Math.min(max, r);
        }
      }
      const u = spec.unit ? ` ${spec.unit}` : '';
      const bound = `${min}..${max}${u}`;
      if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, message: `value must be a number within ${bound}`, bound };
      if (spec.integer && !Number.isInteger(value)) return { ok: false, message: `value must be a whole number within ${bound}`, bound };
      if (value < min || value > max) return { ok: false, message: `value ${value} is outside ${bound}${spec.rating ? ` (the device's ${spec.rating})` : ''}`, bound };
      return { ok: true, value };
    }
    case 'string': {
      const bound = `/${spec.pattern}/, at most ${spec.max_length} characters`;
      if (typeof value !== 'string' || value.length > spec.max_length || !new RegExp(spec.pattern, 'u').test(value))
        return { ok: false, message: `value must match ${bound}`, bound };
      return { ok: true, value };
    }
  }
}

/** Problems of a profile's commands that hold for every protocol (paths from the profile root). */
export function commandProblems(profile: object & { classes: readonly string[] }): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<string>();
  commandsOf(profile).forEach((c, i) => {
    const key = `${c.class ?? '*'}:${c.name}`;
    if (seen.has(key)) out.push({ path: ['commands', i, 'name'], message: `command ${c.name} is declared twice` });
    seen.add(key);
    if (c.class !== undefined && !profile.classes.includes(c.class)) out.push({ path: ['commands', i, 'class'], message: `class ${c.class} is not one of the profile's (${profile.classes.join(', ')})` });
    if (c.value.type === 'number' && c.value.min > c.value.max) out.push({ path: ['commands', i, 'value'], message: `min ${c.value.min} is above max ${c.value.max}` });
    if (c.value.type === 'string') {
      if (!c.value.pattern.startsWith('^') || !c.value.pattern.endsWith('$')) out.push({ path: ['commands', i, 'value', 'pattern'], message: 'a pattern must be anchored (^…$)' });
      try {
        new RegExp(c.value.pattern, 'u');
      } catch (err) {
        out.push({ path: ['commands', i, 'value', 'pattern'], message: `not a regular expression: ${(err as Error).message}` });
      }
    }
    if (c.verify.attribute !== undefined && c.verify.event === undefined) out.push({ path: ['commands', i, 'verify', 'attribute'], message: 'attribute needs an event' });
  });
  return out;
}

/** What the gateway asks a driver to do: one checked command for one of its devices. */
export interface CommandRequest {
  device: string;
  command: string;
  value: CommandValue;
  /** The audit id, for protocols whose message carries a request id. */
  request?: string;
  signal?: AbortSignal;
}

/**
 * What a driver did: `readBack` is the state it read from the device after the write (decoded
 * like a reading), when its protocol can read; absent, the device's own report verifies it.
 */
export interface CommandResult {
  readBack?: string | number | boolean | null;
}

export { scalar as commandScalar };
