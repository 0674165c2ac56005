import { wordsOf, type PointType, type WordOrder } from './codecs.js';
import type { DerivedPoint, ModbusFunction, ModbusProfile, PlainPoint, SunSpecModelDef } from './profile-schema.js';

/**
 * A point resolved for one device: absolute address, function, type, order and the mapping onto
 * a catalog metric. Plain profile points and discovered SunSpec points both end up here, and the
 * planner, the decoder and the simulators all work from this one shape.
 */
export interface Point {
  metric: string;
  fn: ModbusFunction;
  address: number;
  type: PointType;
  order: WordOrder;
  /** Registers (or bits, for coils/discrete inputs) the point spans. */
  words: number;
  length?: number;
  scale: number;
  add: number;
  /** A scale-factor register (int16, value × 10^sf). */
  sf?: { fn: ModbusFunction; address: number };
  unit?: string;
  map?: Readonly<Record<string, string | number | boolean>>;
  bit?: number;
  below?: number;
  notImplemented: readonly number[];
  sentinel: boolean;
  slow: boolean;
  onInvert?: string;
  /** Points of repeating blocks combined into one metric. */
  aggregate?: 'sum' | 'avg' | 'max' | 'min';
  /** Read once per connection (nameplate data), not every poll. */
  once?: boolean;
  /** A block condition: the point counts only when the registers at `address` pass it. */
  cond?: BlockCondition;
}

/** `in`: a uint16 is one of `values`; `not_prefix`: a string starts with none of `prefixes`. */
export type BlockCondition =
  | { kind: 'in'; address: number; words: 1; values: readonly number[] }
  | { kind: 'not_prefix'; address: number; words: number; prefixes: readonly string[] };

export interface DevicePoints {
  points: Point[];
  derived: DerivedPoint[];
}

/** Does a point (or derived value) with an optional `class` apply to a device of class `cls`? */
const forClass = (p: { class?: string | undefined }, cls: string): boolean => p.class === undefined || p.class === cls;

export function resolvePlain(profile: ModbusProfile, p: PlainPoint): Point {
  const fn = p.function ?? profile.defaults.function;
  const out: Point = {
    metric: p.metric,
    fn,
    address: p.address,
    type: fn === 'coil' || fn === 'discrete' ? 'bit' : p.type,
    order: p.order ?? profile.defaults.order,
    words: fn === 'coil' || fn === 'discrete' ? 1 : wordsOf(p.type, p.length),
    scale: p.scale ?? 1,
    add: p.offset ?? 0,
    notImplemented: p.not_implemented ?? [],
    sentinel: p.sentinel ?? false,
    slow: p.slow ?? false,
  };
  if (p.length !== undefined) out.length = p.length;
  if (p.scale_factor !== undefined) out.sf = { fn, address: p.scale_factor };
  if (p.once) out.once = true;
  copyMapping(out, p);
  return out;
}

function copyMapping(out: Point, p: { unit?: string | undefined; map?: Record<string, string | number | boolean> | undefined; bit?: number | undefined; below?: number | undefined; on_invert?: string | undefined }): void {
  if (p.unit !== undefined) out.unit = p.unit;
  if (p.map !== undefined) out.map = p.map;
  if (p.bit !== undefined) out.bit = p.bit;
  if (p.below !== undefined) out.below = p.below;
  if (p.on_invert !== undefined) out.onInvert = p.on_invert;
}

/** The plain points of a profile that a device of class `cls` reads. */
export function plainPoints(profile: ModbusProfile, cls: string): DevicePoints {
  return {
    points: profile.points.filter((p) => forClass(p, cls)).map((p) => resolvePlain(profile, p)),
    derived: profile.derived.filter((d) => forClass(d, cls)),
  };
}

/** A model found on a SunSpec device: its ID, the address of its ID register, and L. */
export interface FoundModel {
  id: number;
  address: number;
  length: number;
}

/**
 * SunSpec points of the models a device of class `cls` has. Addresses follow the discovered
 * chain (never fixed sizes); a repeating model yields one point per block, combined by
 * `aggregate`. When two models give one metric, the higher `rank` wins.
 */
export function sunspecPoints(profile: ModbusProfile, found: readonly FoundModel[], cls: string): DevicePoints {
  const defs = profile.sunspec?.models ?? [];
  const candidates: { rank: number; point: Point }[] = [];
  for (const m of found) {
    for (const def of defs) {
      if (def.class !== cls || !def.ids.includes(m.id)) continue;
      for (const point of modelPoints(def, m)) candidates.push({ rank: def.rank, point });
    }
  }
  const best = new Map<string, number>();
  for (const c of candidates) best.set(c.point.metric, Math.max(best.get(c.point.metric) ?? -Infinity, c.rank));
  return {
    points: candidates.filter((c) => c.rank === best.get(c.point.metric)).map((c) => c.point),
    derived: profile.derived.filter((d) => forClass(d, cls)),
  };
}

/** The points of one SunSpec model definition at a found model (every block of a repeating one). */
export function modelPoints(def: SunSpecModelDef, m: FoundModel): Point[] {
  const out: Point[] = [];
  const end = m.address + 2 + m.length;
  const blocks = def.repeat ? Math.max(0, Math.floor((m.length + 2 - def.repeat.start) / def.repeat.size)) : 0;
  for (const p of def.points) {
    const bases = p.aggregate && def.repeat ? Array.from({ length: blocks }, (_, i) => m.address + def.repeat!.start + i * def.repeat!.size) : [m.address];
    for (const base of bases) {
      const words = wordsOf(p.type, p.length);
      const address = base + p.offset;
      // A point beyond the model's L is not there (a shorter model revision): skip it.
      if (address + words > end) continue;
      const point: Point = {
        metric: p.metric,
        fn: 'holding',
        address,
        type: p.type,
        order: p.order ?? 'ABCD',
        words,
        scale: p.scale ?? 1,
        add: p.add ?? 0,
        notImplemented: p.not_implemented ?? [],
        sentinel: p.sentinel ?? true,
        slow: p.slow ?? false,
      };
      if (p.length !== undefined) point.length = p.length;
      if (p.sf !== undefined && m.address + p.sf < end) point.sf = { fn: 'holding', address: m.address + p.sf };
      if (p.aggregate) point.aggregate = p.aggregate;
      if (p.once) point.once = true;
      if (def.repeat && p.when) point.cond = { kind: 'in', address: base + p.when.offset, words: 1, values: p.when.values };
      if (def.repeat && p.unless_prefix) point.cond = { kind: 'not_prefix', address: base + p.unless_prefix.offset, words: p.unless_prefix.length, prefixes: p.unless_prefix.prefixes };
      copyMapping(point, p);
      out.push(point);
    }
  }
  return out;
}
