import { z } from 'zod';
import { commandProblems, commandSchema, commandsOf } from '../core/commands.js';
import type { DriverProblem } from '../core/driver.js';
import { parseFrame, request, status, type DiOrder } from './frame.js';

/**
 * CJ/T 188-2004 valve control (写阀门控制): C = 0x04, DATA = DI A0 17, SER, then 55H open or
 * 99H close. The meter answers C = 0x84 with DI, SER and its status word ST (valve bits 0–1:
 * 00 open, 01 closed, 11 fault), or C = 0xC4 on error. No 0x33 offset, as every CJ/T 188 frame.
 */

export const CONTROL_WRITE = 0x04;
export const DI_VALVE = 0xa017;
export const VALVE_CODES = { open: 0x55, close: 0x99 } as const;
export type ValveAction = keyof typeof VALVE_CODES;

export function valveRequest(a: { type: number; address: string; action: ValveAction; seq?: number; order?: DiOrder; wakeUp?: number }): Buffer {
  return request({ ...a, control: CONTROL_WRITE, di: DI_VALVE, more: [VALVE_CODES[a.action]] });
}

export type ValveReply = { kind: 'ok'; valve: 'open' | 'closed' | 'fault' } | { kind: 'refused'; status: number } | { kind: 'mismatch'; why: string };

export function valveReply(frame: Buffer, address: string): ValveReply {
  const p = parseFrame(frame);
  if ((p.control & 0x80) === 0) return { kind: 'mismatch', why: 'a request, not a reply (echo on a two-wire bus?)' };
  if ((p.control & 0x3f) !== CONTROL_WRITE) return { kind: 'mismatch', why: `control 0x${p.control.toString(16)} is not a write reply` };
  if ([...address].some((c, i) => c !== 'A' && c !== p.address[i])) return { kind: 'mismatch', why: `reply from meter ${p.address}, not ${address}` };
  const st = p.data.subarray(3, 5);
  if ((p.control & 0x40) !== 0) return { kind: 'refused', status: (st[0] ?? 0) | ((st[1] ?? 0) << 8) };
  return { kind: 'ok', valve: status(st).valve };
}

/** A profile's valve command: command value → valve action (`closed: close`, `open: open`). */
export const cjt188WriteSchema = z.strictObject({
  control: z.literal('valve'),
  map: z.record(z.string(), z.enum(['open', 'close'])),
});
export type Cjt188Write = z.infer<typeof cjt188WriteSchema>;
export const cjt188CommandSchema = commandSchema(cjt188WriteSchema);

export function cjt188CommandProblems(profile: object & { classes: readonly string[] }): DriverProblem[] {
  const out: DriverProblem[] = commandProblems(profile);
  commandsOf(profile).forEach((c, i) => {
    const w = c.write as Cjt188Write;
    if (c.value.type !== 'enum') out.push({ path: ['commands', i, 'value'], message: 'a valve command takes an enum (open/closed)' });
    else for (const v of c.value.values) if (!w.map[v]) out.push({ path: ['commands', i, 'write', 'map'], message: `no valve action for ${v}` });
    if (new Set(Object.values(w.map)).size < 2) out.push({ path: ['commands', i, 'write', 'map'], message: 'a valve command maps one value to open and one to close' });
  });
  return out;
}
