import type { CommandDef, CommandValue } from '../../drivers/core/commands.js';
import { commandsOf } from '../../drivers/core/commands.js';
import { encodeWords, wordsOf } from '../../drivers/modbus/codecs.js';
import { decodeReadback, readbackCount, rawOf, type ModbusWrite } from '../../drivers/modbus/commands.js';
import type { ModbusFunction, ModbusProfile } from '../../drivers/modbus/profile-schema.js';

/**
 * The commands a simulated Modbus unit takes, from the same profile the driver writes with: the
 * written words are decoded into the command's value and handed to the device model, and the
 * model's state is encoded where the profile says the device shows it (its read-back register).
 */

export interface CommandTarget {
  cls: string;
  /** The model takes the command; false = it ignores it (a unit whose interface does not work). */
  command?: (name: string, value: CommandValue) => boolean;
  /** The state a command set, as the read-back register shows it. */
  commandState?: (name: string) => CommandValue | undefined;
}

interface Bound {
  target: CommandTarget;
  def: CommandDef;
  write: ModbusWrite;
}

export class UnitCommands {
  private readonly bound: Bound[] = [];

  constructor(profile: ModbusProfile, targets: readonly CommandTarget[]) {
    for (const def of commandsOf(profile)) {
      for (const target of targets) if (def.class === undefined || def.class === target.cls) this.bound.push({ target, def, write: def.write as ModbusWrite });
    }
  }

  /** Registers the commands write and read back (they must exist in the image even if no point reads them). */
  places(): { fn: ModbusFunction; address: number; count: number }[] {
    return this.bound.flatMap(({ write: w }) => {
      const n = w.function === 'coil' ? 1 : wordsOf(w.type);
      const rb = w.readback ?? { function: w.function, address: w.address };
      return [
        { fn: w.function, address: w.address, count: n },
        { fn: rb.function, address: rb.address, count: readbackCount(w) },
      ];
    });
  }

  /**
   * A client wrote these words: the command they make goes to its model once all its registers
   * arrived (modbus-serial hands a multi-register write over one register at a time).
   */
  written(fn: ModbusFunction, address: number, words: readonly number[]): void {
    for (const b of this.bound) {
      if (b.write.function !== fn) continue;
      const n = fn === 'coil' ? 1 : wordsOf(b.write.type);
      if (address + words.length <= b.write.address || address >= b.write.address + n) continue;
      const staged = (this.staged.get(b) ?? new Array<number | undefined>(n).fill(undefined)).slice();
      words.forEach((w, i) => {
        const at = address + i - b.write.address;
        if (at >= 0 && at < n) staged[at] = w;
      });
      if (staged.some((w) => w === undefined)) {
        this.staged.set(b, staged);
        continue;
      }
      this.staged.delete(b);
      // Decoded as the driver decodes a read-back: through the write's own type, scale and map.
      const as = { ...b.write, readback: { function: fn, address: b.write.address } };
      const v = decodeReadback(as, b.def, staged as number[]);
      b.target.command?.(b.def.name, v === null && b.def.value.type === 'none' ? null : v);
    }
  }

  private readonly staged = new Map<Bound, (number | undefined)[]>();

  /** The read-back registers as the models' states say: [fn, address, words]. */
  states(): [ModbusFunction, number, number[]][] {
    const out: [ModbusFunction, number, number[]][] = [];
    for (const b of this.bound) {
      const s = b.target.commandState?.(b.def.name);
      if (s === undefined) continue;
      const rb = b.write.readback ?? { function: b.write.function, address: b.write.address };
      if (rb.function === 'coil' || rb.function === 'discrete') out.push([rb.function, rb.address, [s === true || s === 1 ? 1 : 0]]);
      else out.push([rb.function, rb.address, encodeWords(b.write.type, rawOf(b.write, s), b.write.order ? { order: b.write.order } : {})]);
    }
    return out;
  }
}
