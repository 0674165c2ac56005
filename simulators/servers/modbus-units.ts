import { z } from 'zod';
import type { ModbusFunction } from '../../drivers/modbus/profile-schema.js';
import type { UnitImage } from './modbus-image.js';

/**
 * The devices behind one simulated endpoint, by unit id, with injectable faults. Both the
 * Modbus TCP server (modbus-serial ServerTCP) and the RTU-over-TCP server answer through here,
 * so a fault behaves the same on either framing.
 */

export const modbusFaultSchema = z.strictObject({
  /** Answer with this exception (2 illegal address, 4 device failure, 6 busy, 11 gateway target). */
  exception: z.union([z.literal(2), z.literal(4), z.literal(6), z.literal(10), z.literal(11)]).optional(),
  /** Only requests touching [from, to] (inclusive) get the exception. */
  range: z.tuple([z.number().int(), z.number().int()]).optional(),
  /** Only this many times, then the fault clears itself (busy twice, then fine). */
  times: z.number().int().positive().optional(),
  /** Never answer (a dead device on the bus). */
  no_answer: z.boolean().optional(),
  /** Answer after this many ms (a slow device). */
  slow: z.number().int().min(0).optional(),
  /** Drop the connection (every device behind it loses it). */
  disconnect: z.boolean().optional(),
});

export type ModbusFault = z.infer<typeof modbusFaultSchema>;

export type Answer =
  | { kind: 'words'; words: number[]; delay: number }
  | { kind: 'exception'; code: number; delay: number }
  | { kind: 'none' }
  | { kind: 'disconnect' };

export interface SimUnit {
  image: UnitImage;
  /** Bring the models up to the current simulated time before an image is read. */
  refresh?: () => void;
  fault?: ModbusFault;
}

export class SimUnits {
  readonly units = new Map<number, SimUnit>();
  readonly counters = { requests: 0, exceptions: 0, unanswered: 0 };

  add(unit: number, u: SimUnit): void {
    if (this.units.has(unit)) throw new Error(`unit ${unit} is defined twice on one endpoint`);
    this.units.set(unit, u);
  }

  setFault(unit: number, fault: ModbusFault | undefined): void {
    const u = this.units.get(unit);
    if (!u) throw new Error(`no unit ${unit}`);
    if (fault) u.fault = { ...fault };
    else delete u.fault;
  }

  /**
   * Answer one read. `missing` says what an unknown unit id gets: a TCP device answers exception
   * 11 like a gateway; on an RS-485 line nobody answers.
   */
  read(unit: number, fn: ModbusFunction, address: number, count: number, missing: 'exception' | 'none'): Answer {
    this.counters.requests++;
    const u = this.units.get(unit);
    if (!u) return missing === 'exception' ? this.exception(11, 0) : this.none();
    const f = u.fault;
    const delay = f?.slow ?? 0;
    if (f && this.applies(f, address, count)) {
      if (f.times !== undefined && --f.times <= 0) delete u.fault;
      if (f.disconnect) return { kind: 'disconnect' };
      if (f.no_answer) return this.none();
      if (f.exception !== undefined) return this.exception(f.exception, delay);
    }
    u.refresh?.();
    const words = u.image.read(fn, address, count);
    if (!words) return this.exception(2, delay);
    return { kind: 'words', words, delay };
  }

  write(unit: number, fn: 'holding' | 'coil', address: number, values: readonly number[]): Answer {
    this.counters.requests++;
    const u = this.units.get(unit);
    if (!u) return this.none();
    if (u.fault?.no_answer) return this.none();
    if (!u.image.read(fn, address, values.length)) return this.exception(2, 0);
    u.refresh?.();
    u.image.write(fn, address, values);
    return { kind: 'words', words: [...values], delay: u.fault?.slow ?? 0 };
  }

  private applies(f: ModbusFault, address: number, count: number): boolean {
    if (!f.range || f.exception === undefined) return true;
    return address <= f.range[1] && address + count - 1 >= f.range[0];
  }

  private exception(code: number, delay: number): Answer {
    this.counters.exceptions++;
    return { kind: 'exception', code, delay };
  }

  private none(): Answer {
    this.counters.unanswered++;
    return { kind: 'none' };
  }
}

/** Answers sent after a simulated delay (a slow device); all cancelled at once when a server stops. */
export class DelayedAnswers {
  private readonly pending = new Set<NodeJS.Timeout>();

  run(delayMs: number, send: () => void): void {
    if (delayMs <= 0) return send();
    const t = setTimeout(() => {
      this.pending.delete(t);
      send();
    }, delayMs);
    this.pending.add(t);
  }

  cancelAll(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}
