import { encodeWords, sentinelWords, wordsOf, type RawValue } from '../../drivers/modbus/codecs.js';
import type { ModbusFunction, ModbusProfile } from '../../drivers/modbus/profile-schema.js';
import { UnitCommands, type CommandTarget } from './modbus-commands.js';
import { plainPoints, sunspecPoints, type FoundModel, type Point } from '../../drivers/modbus/points.js';

/**
 * A simulated unit's register image, encoded from metric values through the SAME profile and
 * codec table the driver decodes with (drivers/modbus): what mbpoll or the driver reads back is
 * exactly what the profile says. One unit may hold several devices (a SunSpec inverter, meter and
 * battery; a heat pump and its tank), each by class.
 */

export type MetricValue = number | bigint | boolean | string | null;
/** Metric values of one device; `null` = the device says "not implemented". */
export type MetricValues = Record<string, MetricValue>;

export interface ImageDevice {
  cls: string;
  values: () => MetricValues;
  /** Device options as the gateway's config gives them (`invert`). */
  options?: Readonly<Record<string, string | number | boolean>>;
  /** Largest magnitude per metric, to pick SunSpec scale factors that fit (fixed for the unit's life). */
  ratings?: Readonly<Record<string, number>>;
  /** Metrics this device answers with the not-implemented sentinel (fault injection). */
  notImplemented?: ReadonlySet<string>;
  /** The profile's commands reach the model here (servers/modbus-commands.ts). */
  command?: CommandTarget['command'];
  commandState?: CommandTarget['commandState'];
}

export interface SunSpecLayout {
  /** Model ids after model 1, in order (e.g. [103, 160, 203, 802]). */
  models: number[];
  base?: number;
  /** MPPT modules of model 160. */
  mppt?: number;
  manufacturer?: string;
  model?: string;
  serial?: string;
}

/** L of the models we build (the SunSpec model definitions in drivers/modbus/sunspec-models/). */
export const MODEL_LENGTH: Readonly<Record<number, number>> = {
  1: 66, 101: 50, 102: 50, 103: 50, 111: 60, 112: 60, 113: 60, 120: 26, 124: 24, 201: 105, 202: 105, 203: 105, 204: 105,
  211: 124, 212: 124, 213: 124, 214: 124, 701: 153, 702: 50, 713: 7, 802: 62,
};

/** Preferred scale factors (resolution) per metric, before widening to fit the rating. */
const PREFERRED_SF: Readonly<Record<string, number>> = { soc: -1, soh: -1 };

export class UnitImage {
  private readonly words = new Map<ModbusFunction, Map<number, number>>();
  private readonly bounds = new Map<ModbusFunction, [number, number]>();
  private readonly points: { dev: ImageDevice; points: Point[] }[] = [];
  private readonly sfs = new Map<number, number>();
  private readonly commands: UnitCommands;

  constructor(
    readonly profile: ModbusProfile,
    readonly devices: readonly ImageDevice[],
    readonly sunspec?: SunSpecLayout,
  ) {
    if (profile.sunspec) {
      if (!sunspec) throw new Error(`unit of profile ${profile.id} needs a SunSpec layout`);
      const found = this.buildSunSpec(sunspec);
      for (const dev of devices) this.points.push({ dev, points: sunspecPoints(profile, found, dev.cls).points });
    } else {
      for (const dev of devices) this.points.push({ dev, points: plainPoints(profile, dev.cls).points });
    }
    this.chooseScaleFactors();
    this.commands = new UnitCommands(profile, devices);
    for (const c of this.commands.places()) for (let i = 0; i < c.count; i++) if (this.words.get(c.fn)?.get(c.address + i) === undefined) this.set(c.fn, c.address + i, 0);
    this.refresh();
  }

  /** A client's write: stored, and the command it makes handed to the device's model. */
  write(fn: ModbusFunction, address: number, values: readonly number[]): void {
    this.poke(fn, address, values);
    this.commands.written(fn, address, values);
    this.refresh();
  }

  /** Words [address, address+count), or undefined (→ exception 2) when outside the mapped area. */
  read(fn: ModbusFunction, address: number, count: number): number[] | undefined {
    const b = this.bounds.get(fn);
    if (!b || address < b[0] || address + count - 1 > b[1]) return undefined;
    const w = this.words.get(fn);
    return Array.from({ length: count }, (_, i) => w?.get(address + i) ?? 0);
  }

  /** Overwrite registers (a write from a client, or a fault). */
  poke(fn: ModbusFunction, address: number, values: readonly number[]): void {
    for (let i = 0; i < values.length; i++) this.set(fn, address + i, values[i] ?? 0);
  }

  /** Re-encode every point from the devices' current values. */
  refresh(): void {
    for (const { dev, points } of this.points) {
      const values = dev.values();
      const invert = dev.options?.['invert'] === true;
      const bits = new Map<string, number>();
      for (const p of points) this.encodePoint(p, values, invert, bits, dev.notImplemented);
    }
    for (const [fn, address, words] of this.commands.states()) this.poke(fn, address, words);
  }

  private encodePoint(p: Point, values: MetricValues, invert: boolean, bits: Map<string, number>, off?: ReadonlySet<string>): void {
    const metric = invert && p.onInvert && p.onInvert !== 'negate' ? p.onInvert : p.metric;
    if (!(metric in values) && !off?.has(metric)) return;
    let v = off?.has(metric) ? null : (values[metric] ?? null);
    if (v === null) {
      const s = sentinelWords(p.type, { order: p.order, ...(p.length ? { length: p.length } : {}) });
      if (s) this.poke(p.fn, p.address, s);
      return;
    }
    if (invert && p.onInvert === 'negate' && (typeof v === 'number' || typeof v === 'bigint')) v = -v;
    let raw: RawValue;
    if (p.map) {
      const key = Object.keys(p.map).find((k) => p.map?.[k] === v);
      if (key === undefined) return;
      raw = Number(key);
    } else if (p.bit !== undefined) {
      const k = `${p.fn}:${p.address}`;
      const word = ((bits.get(k) ?? 0) & ~(1 << p.bit)) | (v === true ? 1 << p.bit : 0);
      bits.set(k, word);
      raw = word;
    } else if (p.below !== undefined) {
      raw = ((v === true ? p.below * 0.9 : p.below * 1.1) - p.add) / p.scale;
    } else if (typeof v === 'bigint' && p.scale === 1 && p.add === 0 && !p.sf) {
      raw = v;
    } else if (typeof v === 'string' || typeof v === 'boolean') {
      raw = v;
    } else {
      const sf = p.sf ? (this.sfs.get(p.sf.address) ?? 0) : 0;
      const x = (Number(v) - p.add) / p.scale / 10 ** sf;
      raw = p.type === 'float32' || p.type === 'float64' ? x : Math.round(x);
      if (p.aggregate) raw = Math.round(x / this.blocksOf(p));
      raw = clamp(raw as number, p);
    }
    const words = p.fn === 'coil' || p.fn === 'discrete' ? [raw === true || raw === 1 ? 1 : 0] : encodeWords(p.type, raw, { order: p.order, ...(p.length ? { length: p.length } : {}) });
    this.poke(p.fn, p.address, words);
  }

  private blocksOf(p: Point): number {
    return this.points.reduce((n, d) => n + d.points.filter((q) => q.metric === p.metric && q.aggregate).length, 0) || 1;
  }

  private set(fn: ModbusFunction, address: number, word: number): void {
    let w = this.words.get(fn);
    if (!w) this.words.set(fn, (w = new Map()));
    w.set(address, word & 0xffff);
    const b = this.bounds.get(fn);
    this.bounds.set(fn, b ? [Math.min(b[0], address), Math.max(b[1], address)] : [address, address]);
  }

  private buildSunSpec(s: SunSpecLayout): FoundModel[] {
    const base = s.base ?? 40000;
    this.poke('holding', base, [0x5375, 0x6e53]);
    const found: FoundModel[] = [];
    let addr = base + 2;
    for (const id of [1, ...s.models]) {
      const length = id === 160 ? 8 + 20 * (s.mppt ?? 2) : MODEL_LENGTH[id];
      if (length === undefined) throw new Error(`no layout for SunSpec model ${id}`);
      this.poke('holding', addr, [id, length]);
      for (let i = 0; i < length; i++) this.set('holding', addr + 2 + i, 0);
      if (id === 1) {
        this.poke('holding', addr + 2, encodeWords('string', s.manufacturer ?? 'FutureCommunity', { length: 16 }));
        this.poke('holding', addr + 18, encodeWords('string', s.model ?? 'SIM', { length: 16 }));
        this.poke('holding', addr + 50, encodeWords('string', s.serial ?? 'SIM-0001', { length: 16 }));
      }
      if (id === 160) {
        this.poke('holding', addr + 8, [s.mppt ?? 2]);
        for (let m = 0; m < (s.mppt ?? 2); m++) this.poke('holding', addr + 10 + m * 20, [m + 1]);
      }
      found.push({ id, address: addr, length });
      addr += 2 + length;
    }
    this.poke('holding', addr, [0xffff, 0]);
    return found;
  }

  /** SunSpec scale factors: fixed for the unit's life so that split reads never disagree. */
  private chooseScaleFactors(): void {
    for (const { dev, points } of this.points) {
      for (const p of points) {
        if (!p.sf) continue;
        const rating = Math.abs(dev.ratings?.[p.metric] ?? 0) / (p.aggregate ? this.blocksOf(p) : 1);
        const max = typeMax(p);
        let sf = PREFERRED_SF[p.metric] ?? 0;
        while (sf < 10 && rating / 10 ** sf > max) sf++;
        this.sfs.set(p.sf.address, Math.max(this.sfs.get(p.sf.address) ?? -10, sf));
      }
    }
    for (const [address, sf] of this.sfs) this.poke('holding', address, encodeWords('sunssf', sf));
  }
}

function typeMax(p: Point): number {
  const bits = 16 * wordsOf(p.type, p.length);
  return p.type.startsWith('int') || p.type === 'sunssf' ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
}

function clamp(raw: number, p: Point): number {
  if (p.type === 'float32' || p.type === 'float64') return raw;
  const max = typeMax(p);
  const min = p.type.startsWith('int') ? -max - 1 : 0;
  // An accumulator wraps like the real register does; everything else saturates.
  // (Only when out of range: at 64 bits, max + 1 as a double swallows a small value.)
  if (p.type.startsWith('acc') || p.type.startsWith('uint')) return raw >= 0 && raw <= max ? raw : ((raw % (max + 1)) + (max + 1)) % (max + 1);
  return Math.max(min, Math.min(max, raw));
}
