import type { ModbusFunction } from './profile-schema.js';
import type { Point } from './points.js';

/**
 * Request planning: as few reads as possible for a device's points. Points of one function code
 * and one speed group (fast telemetry / slow counters) are merged into blocks of at most
 * `max_registers` (`max_bits` for coils and discrete inputs), reading through holes of at most
 * `max_gap` registers. A device that answers a block with exception 2 (illegal address: usually
 * an unmapped hole inside it) gets that block split in two; the split is remembered, and a
 * single point that still fails is marked unsupported.
 */

export interface Span {
  fn: ModbusFunction;
  address: number;
  count: number;
  slow: boolean;
}

export type PlannedRead = Span;

export interface PlanLimits {
  max_registers: number;
  max_bits: number;
  max_gap: number;
}

/** What a device taught us: where blocks must break, and spans it does not have. */
export interface PlanMemory {
  barriers: Set<string>;
  unsupported: Set<string>;
}

export const newMemory = (): PlanMemory => ({ barriers: new Set(), unsupported: new Set() });

const FN_CODE: Record<ModbusFunction, number> = { coil: 1, discrete: 2, holding: 3, input: 4 };
export const functionCode = (fn: ModbusFunction): number => FN_CODE[fn];
const isBits = (fn: ModbusFunction): boolean => fn === 'coil' || fn === 'discrete';
export const spanKey = (s: { fn: ModbusFunction; address: number; count: number }): string => `${s.fn}:${s.address}:${s.count}`;
const barrierKey = (fn: ModbusFunction, address: number): string => `${fn}:${address}`;

/** The registers a device must read: its points and their scale factors, overlaps merged. */
export function spansOf(points: readonly Point[]): Span[] {
  const raw: Span[] = [];
  const sfSlow = new Map<string, boolean>();
  for (const p of points) {
    raw.push({ fn: p.fn, address: p.address, count: p.words, slow: p.slow });
    if (p.cond) raw.push({ fn: p.fn, address: p.cond.address, count: p.cond.words, slow: p.slow });
    if (p.sf) {
      const k = barrierKey(p.sf.fn, p.sf.address);
      // A scale factor shared by fast and slow points is read with the fast ones.
      sfSlow.set(k, (sfSlow.get(k) ?? true) && p.slow);
    }
  }
  for (const [k, slow] of sfSlow) {
    const [fn, a] = k.split(':') as [ModbusFunction, string];
    raw.push({ fn, address: Number(a), count: 1, slow });
  }
  raw.sort((a, b) => Number(a.slow) - Number(b.slow) || FN_CODE[a.fn] - FN_CODE[b.fn] || a.address - b.address || b.count - a.count);
  const out: Span[] = [];
  for (const s of raw) {
    const last = out[out.length - 1];
    if (last && last.fn === s.fn && last.slow === s.slow && s.address < last.address + last.count) {
      last.count = Math.max(last.count, s.address + s.count - last.address);
    } else out.push({ ...s });
  }
  return out;
}

/** Plan the reads for `spans` (from spansOf), honouring learned barriers and dropping unsupported spans. */
export function plan(spans: readonly Span[], limits: PlanLimits, memory: PlanMemory = newMemory()): PlannedRead[] {
  const reads: PlannedRead[] = [];
  let cur: PlannedRead | undefined;
  for (const s of spans) {
    if (memory.unsupported.has(spanKey(s))) continue;
    const max = isBits(s.fn) ? limits.max_bits : limits.max_registers;
    const joinable =
      cur !== undefined &&
      cur.fn === s.fn &&
      cur.slow === s.slow &&
      s.address - (cur.address + cur.count) <= limits.max_gap &&
      s.address + s.count - cur.address <= max &&
      !memory.barriers.has(barrierKey(s.fn, s.address));
    if (joinable && cur) cur.count = Math.max(cur.count, s.address + s.count - cur.address);
    else {
      cur = { ...s };
      reads.push(cur);
    }
  }
  // A slow read whose registers a fast read already covers (a counter inside a telemetry block
  // read through its gap) costs a request for nothing: the fast read brings it every poll.
  return reads.filter((r) => !r.slow || !reads.some((f) => !f.slow && f.fn === r.fn && f.address <= r.address && f.address + f.count >= r.address + r.count));
}

/**
 * The device answered `read` with exception 2. Learn from it: split between its spans (a
 * barrier at the middle span) or, if it holds one span only, mark that span unsupported.
 * Returns the reads that now replace it (empty when the span is unsupported).
 */
export function splitRead(read: PlannedRead, spans: readonly Span[], limits: PlanLimits, memory: PlanMemory): PlannedRead[] {
  const inside = spans.filter(
    (s) => s.fn === read.fn && s.slow === read.slow && s.address >= read.address && s.address + s.count <= read.address + read.count && !memory.unsupported.has(spanKey(s)),
  );
  if (inside.length <= 1) {
    for (const s of inside) memory.unsupported.add(spanKey(s));
    if (inside.length === 0) memory.unsupported.add(spanKey(read));
    return [];
  }
  const mid = inside[Math.floor(inside.length / 2)];
  if (mid) memory.barriers.add(barrierKey(mid.fn, mid.address));
  return plan(inside, limits, memory);
}

/** Points whose registers lie in an unsupported span. */
export function isUnsupported(p: Point, memory: PlanMemory, spans: readonly Span[]): boolean {
  return spans.some(
    (s) => memory.unsupported.has(spanKey(s)) && s.fn === p.fn && p.address >= s.address && p.address + p.words <= s.address + s.count,
  );
}

/** One line per read, for `fcgw explain`. */
export function describeRead(r: PlannedRead, points: readonly Point[]): string {
  const inside = points.filter((p) => p.fn === r.fn && p.address >= r.address && p.address + p.words <= r.address + r.count);
  const names = [...new Set(inside.map((p) => p.metric))].join(', ');
  const unit = isBits(r.fn) ? 'bits' : 'registers';
  return `FC${FN_CODE[r.fn]} ${r.fn} ${r.address}..${r.address + r.count - 1} (${r.count} ${unit})${r.slow ? ' [slow]' : ''}: ${names || 'scale factors'}`;
}
