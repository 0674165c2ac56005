import { fileURLToPath } from 'node:url';
import { readGoldenFiles } from '../../helpers/golden.js';
import type { Reading } from '../../../gateway/model/types.js';
import { decodeDevice, RegisterImage } from '../../../drivers/modbus/decode.js';
import { plainPoints, sunspecPoints, type DevicePoints } from '../../../drivers/modbus/points.js';
import { FUNCTIONS, type ModbusFunction, type ModbusProfile } from '../../../drivers/modbus/profile-schema.js';
import { discoverSunSpec } from '../../../drivers/modbus/sunspec.js';
import { ModbusError } from '../../../drivers/modbus/transport.js';

/**
 * Golden cases: a register image (raw words, written by hand from the device's documentation)
 * → the readings the driver's decode path gives, one YAML file per Modbus profile. SunSpec
 * images are discovered and walked exactly as on a device (a missing register is exception 2).
 */
export const GOLDEN_DIR = fileURLToPath(new URL('.', import.meta.url));

export type Registers = Partial<Record<ModbusFunction, Record<string, number[]>>>;

export interface GoldenCase {
  name: string;
  class: string;
  options?: Record<string, string | number | boolean>;
  registers: Registers;
  readings: Omit<Reading, 'device' | 'ts'>[];
}

export interface GoldenFile {
  profile: string;
  cases: GoldenCase[];
  file: string;
}

export function goldenFiles(): GoldenFile[] {
  return readGoldenFiles<Omit<GoldenFile, 'file'>>(GOLDEN_DIR);
}

export function imageOf(registers: Registers): RegisterImage {
  const image = new RegisterImage();
  for (const fn of FUNCTIONS) for (const [addr, words] of Object.entries(registers[fn] ?? {})) image.set(fn, Number(addr), words, 1);
  return image;
}

/** The readings of one case, sorted by metric, without device and timestamp. */
export async function runCase(profile: ModbusProfile, c: GoldenCase): Promise<Omit<Reading, 'device' | 'ts'>[]> {
  const image = imageOf(c.registers);
  let points: DevicePoints = plainPoints(profile, c.class);
  if (profile.sunspec) {
    const read = async (address: number, count: number) => {
      const w = image.get('holding', address, count);
      if (!w) throw new ModbusError('MODBUS_EXCEPTION', 'exception 2', 2);
      return w;
    };
    const map = await discoverSunSpec(read, profile.sunspec.bases);
    if (!map) throw new Error(`${c.name}: no SunS marker at ${profile.sunspec.bases.join(', ')}`);
    const found = sunspecPoints(profile, map.models, c.class);
    points = { points: [...found.points, ...points.points], derived: found.derived };
  }
  const readings = decodeDevice(points.points, points.derived, image, { device: 'golden', invert: c.options?.['invert'] === true, options: c.options ?? {} });
  return readings
    .map(({ device: _d, ts: _t, ...r }) => r)
    // 64-bit registers decode exactly (bigint); YAML numbers compare with those within 2^53.
    .map((r) => (typeof r.value === 'bigint' && r.value <= BigInt(Number.MAX_SAFE_INTEGER) && r.value >= -BigInt(Number.MAX_SAFE_INTEGER) ? { ...r, value: Number(r.value) } : r))
    .sort((a, b) => a.metric.localeCompare(b.metric));
}
