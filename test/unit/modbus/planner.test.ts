import { describe, expect, it } from 'vitest';
import { describeRead, newMemory, plan, spansOf, splitRead } from '../../../drivers/modbus/planner.js';
import type { Point } from '../../../drivers/modbus/points.js';

const pt = (address: number, words = 1, extra: Partial<Point> = {}): Point => ({
  metric: `m${address}`,
  fn: 'holding',
  address,
  type: words === 2 ? 'int32' : 'int16',
  order: 'ABCD',
  words,
  scale: 1,
  add: 0,
  notImplemented: [],
  sentinel: false,
  slow: false,
  ...extra,
});
const limits = { max_registers: 125, max_bits: 2000, max_gap: 8 };

describe('request planner', () => {
  it('merges neighbours and bridges small gaps', () => {
    const reads = plan(spansOf([pt(0), pt(1), pt(2, 2), pt(10), pt(30)]), limits);
    expect(reads.map((r) => [r.address, r.count])).toEqual([
      [0, 11],
      [30, 1],
    ]);
  });
  it('never exceeds the device maximum, never splits a point', () => {
    const points = Array.from({ length: 100 }, (_, i) => pt(i * 2, 2));
    const reads = plan(spansOf(points), { ...limits, max_registers: 50 });
    expect(reads.every((r) => r.count <= 50)).toBe(true);
    expect(reads.map((r) => r.count)).toEqual([50, 50, 50, 50]);
    expect(plan(spansOf(points), limits).map((r) => r.count)).toEqual([124, 76]);
  });
  it('separates function codes and speed groups, scale factors join their points', () => {
    const reads = plan(
      spansOf([pt(5, 1, { sf: { fn: 'holding', address: 7 } }), pt(6, 1, { fn: 'input' }), pt(8, 2, { slow: true }), pt(0, 1, { fn: 'coil', type: 'bit' })]),
      limits,
    );
    expect(reads.map((r) => `${r.fn}:${r.address}+${r.count}${r.slow ? 's' : ''}`)).toEqual(['coil:0+1', 'holding:5+3', 'input:6+1', 'holding:8+2s']);
  });
  it('exception 2 splits a block in two and remembers it; a lone span becomes unsupported', () => {
    const spans = spansOf([pt(0), pt(4), pt(8), pt(12)]);
    const memory = newMemory();
    const [block] = plan(spans, limits, memory);
    expect(block).toMatchObject({ address: 0, count: 13 });
    const halves = splitRead(block!, spans, limits, memory);
    expect(halves.map((r) => [r.address, r.count])).toEqual([
      [0, 5],
      [8, 5],
    ]);
    // Remembered: the next plan starts with the split.
    expect(plan(spans, limits, memory).map((r) => [r.address, r.count])).toEqual([
      [0, 5],
      [8, 5],
    ]);
    const quarters = splitRead(halves[1]!, spans, limits, memory);
    expect(quarters.map((r) => [r.address, r.count])).toEqual([
      [8, 1],
      [12, 1],
    ]);
    expect(splitRead(quarters[1]!, spans, limits, memory)).toEqual([]);
    expect(plan(spans, limits, memory).map((r) => [r.address, r.count])).toEqual([
      [0, 5],
      [8, 1],
    ]);
  });
  it('drops a slow read that a fast read already covers', () => {
    // A SunSpec 103 block: the energy counter (slow) lies inside the telemetry block read through its gap.
    const points = [pt(14), pt(15), pt(24, 2, { slow: true, sf: { fn: 'holding', address: 26 } }), pt(31), pt(32), pt(38), pt(60, 2, { slow: true })];
    expect(plan(spansOf(points), { ...limits, max_gap: 16 }).map((r) => `${r.address}+${r.count}${r.slow ? 's' : ''}`)).toEqual(['14+25', '60+2s']);
  });
  it('describes a read for explain', () => {
    const points = [pt(40084, 1, { metric: 'ac_power' }), pt(40085, 1, { metric: 'energy_total' })];
    const [r] = plan(spansOf(points), limits);
    expect(describeRead(r!, points)).toBe('FC3 holding 40084..40085 (2 registers): ac_power, energy_total');
  });
});
