import { z } from 'zod';
import type { BusLink } from '../core/bus-link.js';
import { commandProblems, commandSchema, commandsOf, findCommand, type CommandResult, type CommandValue } from '../core/commands.js';
import type { DriverProblem } from '../core/driver.js';
import { RELAY_ACTIONS, RELAY_OPEN_BIT, relayReply, relayRequest, STATUS_WORD_3, type RelayAction } from './control.js';
import { readReply, readRequest, scan } from './frame.js';

/**
 * DL/T 645-2007 commands: the load relay under remote control (C = 0x1C). A command's values map
 * to relay actions (`off: trip`, `on: close_now`); the state is read back from status word 3. The
 * password and operator code are the device's (options `password`, `password_level`, `operator`),
 * never the profile's: each meter has its own.
 */

export const dlt645WriteSchema = z.strictObject({
  control: z.literal('relay'),
  /** Command value → relay action. */
  map: z.record(z.string(), z.enum(Object.keys(RELAY_ACTIONS) as [RelayAction, ...RelayAction[]])),
});
export type Dlt645Write = z.infer<typeof dlt645WriteSchema>;

export const dlt645CommandSchema = commandSchema(dlt645WriteSchema);

export class Dlt645CommandError extends Error {
  constructor(
    readonly code: 'DLT645_COMMAND_UNKNOWN' | 'DLT645_COMMAND_VALUE' | 'DLT645_CREDENTIALS' | 'DLT645_REFUSED',
    message: string,
  ) {
    super(message);
  }
}

type Options = Readonly<Record<string, string | number | boolean>>;

/** Trip or close the relay, then read status word 3: the command value the relay state means. */
export async function relayCommand(
  link: BusLink,
  a: { profile: object; cls: string; address: string; options: Options; command: string; value: CommandValue; timeoutMs: number },
): Promise<CommandResult> {
  const def = findCommand(a.profile, a.cls, a.command);
  if (!def) throw new Dlt645CommandError('DLT645_COMMAND_UNKNOWN', `no command ${a.command} for a ${a.cls}`);
  const w = def.write as Dlt645Write;
  const action = w.map[String(a.value)];
  if (!action) throw new Dlt645CommandError('DLT645_COMMAND_VALUE', `no relay action for ${String(a.value)}`);
  const password = a.options['password'];
  if (password === undefined) throw new Dlt645CommandError('DLT645_CREDENTIALS', 'the device has no `password` option (6 digits) for remote control');
  let request: Buffer;
  try {
    request = relayRequest(a.address, action, { password: String(password).padStart(6, '0'), level: Number(a.options['password_level'] ?? 2), operator: String(a.options['operator'] ?? '00000000') });
  } catch (err) {
    throw new Dlt645CommandError('DLT645_CREDENTIALS', (err as Error).message);
  }
  const reply = await link.exchange(request, { scan, match: (f) => { const r = relayReply(f, a.address); return r.kind === 'mismatch' ? { ok: false, why: r.why } : { ok: true, value: r }; } }, a.timeoutMs);
  if (reply.kind === 'refused') throw new Dlt645CommandError('DLT645_REFUSED', `meter ${a.address} refused ${action}: ${reply.meaning}`);
  const read = await link.exchange(readRequest(a.address, STATUS_WORD_3, '2007'), { scan, match: (f) => { const r = readReply(f, { address: a.address, di: STATUS_WORD_3, edition: '2007' }); return r.kind === 'mismatch' ? { ok: false, why: r.why } : { ok: true, value: r }; } }, a.timeoutMs);
  if (read.kind !== 'value' || read.value.length < 2) return { readBack: null };
  const open = ((read.value[0] as number) & RELAY_OPEN_BIT) !== 0;
  const shown = Object.keys(w.map).find((k) => (w.map[k] === 'trip') === open);
  return { readBack: shown ?? null };
}

/** Checks of a DL/T 645 profile's commands beyond their schema. */
export function dlt645CommandProblems(profile: object & { classes: readonly string[]; edition: string }): DriverProblem[] {
  const out: DriverProblem[] = commandProblems(profile);
  commandsOf(profile).forEach((c, i) => {
    const w = c.write as Dlt645Write;
    if (profile.edition !== '2007') out.push({ path: ['commands', i], message: 'remote control (C = 0x1C) is DL/T 645-2007' });
    if (c.value.type !== 'enum') out.push({ path: ['commands', i, 'value'], message: 'a relay command takes an enum (on/off)' });
    else for (const v of c.value.values) if (!w.map[v]) out.push({ path: ['commands', i, 'write', 'map'], message: `no relay action for ${v}` });
    const actions = Object.values(w.map);
    if (!actions.includes('trip') || actions.length < 2) out.push({ path: ['commands', i, 'write', 'map'], message: 'a relay command maps one value to trip and one to close' });
  });
  return out;
}
