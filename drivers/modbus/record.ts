import { pollRounds, type FromRecording, type RecordArgs, type Recording } from '../core/recording.js';
import type { GoldenDoc } from '../core/golden.js';
import type { Loaded } from '../profiles/schema.js';
import type { ModbusConnection } from './connection-schema.js';
import { plan, spansOf } from './planner.js';
import { plainPoints } from './points.js';
import type { ModbusFunction, ModbusProfile } from './profile-schema.js';
import { Transport } from './transport.js';

/**
 * `fcgw record` on a Modbus device: every poll period, the reads the profile's points need
 * (planned as the driver plans them, fast and slow groups alike), each with the words the device
 * answered or the error. Plain points only: a SunSpec device's chain is discovered at run time.
 */
export async function recordModbus(a: RecordArgs<ModbusConnection, Loaded<ModbusProfile>>): Promise<void> {
  const { points } = plainPoints(a.profile, a.device.class);
  const reads = plan(spansOf(points), a.profile.limits);
  const unit = a.device.unit ?? 1;
  const period = a.device.poll ?? a.profile.defaults.poll;
  const transport = new Transport(a.connection, () => undefined);
  a.ready?.();
  try {
    await pollRounds(a, period, async (poll) => {
      if (!transport.isOpen) await transport.open().catch(() => undefined);
      for (const r of reads) {
        const t = Date.now();
        try {
          const words = await transport.read(unit, r.fn, r.address, r.count);
          a.entry({ t, poll, fn: r.fn, address: r.address, count: r.count, words: [...words] });
        } catch (err) {
          a.entry({ t, poll, fn: r.fn, address: r.address, count: r.count, error: (err as Error).message });
        }
      }
    });
  } finally {
    await transport.close();
  }
}

/** One golden case per recorded poll, each read at its own time. */
export const modbusFromRecording: FromRecording<Loaded<ModbusProfile>> = (_profile, rec: Recording): GoldenDoc => {
  const polls = new Map<number, { fn: ModbusFunction; address: number; words: number[]; ts: number }[]>();
  for (const e of rec.entries) {
    if (!('fn' in e) || !e.words) continue;
    const list = polls.get(e.poll) ?? (polls.set(e.poll, []).get(e.poll) as NonNullable<ReturnType<typeof polls.get>>);
    list.push({ fn: e.fn as ModbusFunction, address: e.address, words: e.words, ts: e.t });
  }
  return {
    profile: rec.profile,
    cases: [...polls].map(([n, reads]) => ({ name: `poll ${n + 1} at ${new Date(reads[0]?.ts ?? 0).toISOString()}`, class: rec.device.class, options: rec.device.options, reads })),
  };
};
