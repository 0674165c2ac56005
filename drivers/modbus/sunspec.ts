import type { FoundModel } from './points.js';
import { ModbusError } from './transport.js';

/** `SunS` as two big-endian registers. */
export const SUNS = [0x5375, 0x6e53] as const;
export const END_ID = 0xffff;
/** Bound on the model chain: a device that never ends it cannot keep us walking. */
const MAX_MODELS = 64;

export interface SunSpecMap {
  base: number;
  models: FoundModel[];
}

export type ReadHolding = (address: number, count: number) => Promise<number[]>;

/**
 * Find the SunSpec marker at the first of `bases` that has it, then walk the model chain by L
 * (next model at addr + 2 + L) until ID 0xFFFF, the end of the address space, or an address the
 * device refuses (exception 2 ends the chain too: some devices omit the end marker).
 * Returns undefined when no base has the marker. Timeouts and other failures propagate.
 */
export async function discoverSunSpec(read: ReadHolding, bases: readonly number[]): Promise<SunSpecMap | undefined> {
  for (const base of bases) {
    let marker: number[];
    try {
      marker = await read(base, 2);
    } catch (err) {
      if (err instanceof ModbusError && err.exception === 2) continue;
      throw err;
    }
    if (marker[0] !== SUNS[0] || marker[1] !== SUNS[1]) continue;
    const models: FoundModel[] = [];
    let addr = base + 2;
    for (let i = 0; i < MAX_MODELS && addr + 1 <= 0xffff; i++) {
      let header: number[];
      try {
        header = await read(addr, 2);
      } catch (err) {
        if (err instanceof ModbusError && err.exception === 2) break;
        throw err;
      }
      const id = header[0] ?? END_ID;
      const length = header[1] ?? 0;
      if (id === END_ID || id === 0) break;
      models.push({ id, address: addr, length });
      addr += 2 + length;
    }
    return { base, models };
  }
  return undefined;
}

export function describeSunSpec(map: SunSpecMap): string {
  return `SunSpec at ${map.base}: ${map.models.map((m) => `${m.id}@${m.address} L=${m.length}`).join(', ') || 'no models'}`;
}
