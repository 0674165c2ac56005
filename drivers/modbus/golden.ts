import type { GoldenDecoded, GoldenDoc } from '../core/golden.js';
import type { Loaded } from '../profiles/schema.js';
import { decodeDevice, RegisterImage } from './decode.js';
import { plainPoints, sunspecPoints, type DevicePoints } from './points.js';
import { FUNCTIONS, type ModbusFunction, type ModbusProfile } from './profile-schema.js';
import { discoverSunSpec } from './sunspec.js';
import { ModbusError } from './transport.js';

/**
 * Modbus golden cases: a register image (raw words, as the device's documentation or a capture
 * gives them) → the readings of the driver's own decode path. SunSpec images are discovered and
 * walked exactly as on a device (a register the image lacks is exception 2).
 *
 * ```yaml
 * profile: my-heat-meter
 * cases:
 *   - name: …
 *     class: heat_meter            # default: the profile's first class
 *     options: { invert: true }    # device options, optional
 *     ts: 2024-11-22T02:00:00Z     # when the registers were read (default: this instant)
 *     registers: { holding: { 0: [0x0001, 0xE240] } }
 *     readings: [...]              # and/or samples: [...]
 * ```
 */
export type Registers = Partial<Record<ModbusFunction, Record<string, number[]>>>;

/** When a case does not say: the registers were read at this instant. */
export const GOLDEN_TS = Date.UTC(2024, 10, 22, 2, 0, 0);

export function imageOf(registers: Registers, ts = GOLDEN_TS): RegisterImage {
  const image = new RegisterImage();
  for (const fn of FUNCTIONS) for (const [addr, words] of Object.entries(registers[fn] ?? {})) image.set(fn, Number(addr), words, ts);
  return image;
}

interface ModbusCase {
  name?: string;
  class?: string;
  options?: Record<string, string | number | boolean>;
  ts?: string | number;
  registers?: Registers;
  /** A recorded poll (`fcgw record`): each read with its own time, instead of `registers`. */
  reads?: { fn: ModbusFunction; address: number; words: number[]; ts: number | string }[];
}

export async function modbusGolden(profile: Loaded<ModbusProfile>, doc: GoldenDoc): Promise<GoldenDecoded[]> {
  const out: GoldenDecoded[] = [];
  for (const raw of doc.cases) {
    const c = raw as ModbusCase;
    const cls = c.class ?? (doc['class'] as string | undefined) ?? (profile.classes[0] as string);
    const ts = c.ts === undefined ? GOLDEN_TS : typeof c.ts === 'number' ? c.ts : Date.parse(c.ts);
    const image = imageOf(c.registers ?? {}, ts);
    for (const r of c.reads ?? []) image.set(r.fn, r.address, r.words, typeof r.ts === 'number' ? r.ts : Date.parse(r.ts));
    let points: DevicePoints = plainPoints(profile, cls);
    const problems: string[] = [];
    if (profile.sunspec) {
      const read = async (address: number, count: number) => {
        const w = image.get('holding', address, count);
        if (!w) throw new ModbusError('MODBUS_EXCEPTION', 'exception 2', 2);
        return w;
      };
      const map = await discoverSunSpec(read, profile.sunspec.bases);
      if (!map) problems.push(`no SunS marker at ${profile.sunspec.bases.join(', ')}`);
      else {
        const found = sunspecPoints(profile, map.models, cls);
        points = { points: [...found.points, ...points.points], derived: found.derived };
      }
    }
    const readings = decodeDevice(points.points, points.derived, image, { device: 'golden', invert: c.options?.['invert'] === true, options: c.options ?? {} });
    out.push({ class: cls, device: 'golden', readings, events: [], ...(problems.length ? { problems } : {}) });
  }
  return out;
}
