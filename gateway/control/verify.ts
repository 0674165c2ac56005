import type { CommandDef, CommandValue } from '../../drivers/core/commands.js';
import type { LiveHub, LiveMessage } from '../api/live.js';

/**
 * Read-back by report: for a device whose protocol cannot be read on demand (MQTT), the command
 * is verified when the device itself reports what it did, after the command was sent: an event
 * of the declared type (with the attribute equal to the commanded value, when declared) or the
 * declared metric equal to the value. The watch starts before the command is sent, so a quick
 * answer is never missed.
 */
export interface ReportWatch {
  /** Resolves with what the device reported, or undefined when the deadline passed. */
  result(deadlineMs: number): Promise<CommandValue | undefined>;
  cancel(): void;
}

export function watchReport(live: LiveHub, device: string, def: CommandDef, value: CommandValue): ReportWatch {
  let resolve: (v: CommandValue | undefined) => void = () => undefined;
  let done = false;
  let got: { v: CommandValue } | undefined;
  const matches = (m: LiveMessage): CommandValue | undefined => {
    const v = def.verify;
    if (m.kind === 'event' && v.event !== undefined && m.data.device === device && m.data.type === v.event) {
      if (v.attribute === undefined) return value ?? true;
      const a = m.data.attributes[v.attribute];
      return a !== undefined && sameValue(a, value) ? a : undefined;
    }
    if (m.kind === 'sample' && v.metric !== undefined && m.data.device === device && m.data.metric === v.metric && m.data.value !== null)
      return sameValue(m.data.value, value) ? m.data.value : undefined;
    return undefined;
  };
  const unsubscribe = live.subscribe({
    filter: (m) => !done && matches(m) !== undefined,
    send: (m) => {
      const v = matches(m);
      if (v !== undefined && !done) {
        got = { v };
        done = true;
        resolve(v);
      }
      return true;
    },
    close: () => undefined,
  });
  let timer: NodeJS.Timeout | undefined;
  return {
    result: (deadlineMs) =>
      new Promise<CommandValue | undefined>((r) => {
        if (got) return r(got.v);
        resolve = (v) => {
          clearTimeout(timer);
          unsubscribe();
          r(v);
        };
        timer = setTimeout(() => {
          done = true;
          unsubscribe();
          r(undefined);
        }, deadlineMs);
      }).finally(unsubscribe),
    cancel: () => {
      done = true;
      clearTimeout(timer);
      unsubscribe();
    },
  };
}

/** A read-back equals the commanded value (numbers within a millionth, to survive a scale). */
export function sameValue(got: unknown, want: CommandValue): boolean {
  if (typeof got === 'number' && typeof want === 'number') return Math.abs(got - want) <= 1e-6 * Math.max(1, Math.abs(want));
  return got === want;
}
