import { describe, expect, it } from 'vitest';
import { decodeDevice, RegisterImage } from '../../../drivers/modbus/decode.js';
import type { Point } from '../../../drivers/modbus/points.js';

const point = (over: Partial<Point>): Point => ({
  metric: 'energy_total',
  fn: 'holding',
  address: 0,
  type: 'uint64',
  order: 'ABCD',
  words: 4,
  scale: 1,
  add: 0,
  notImplemented: [],
  sentinel: false,
  slow: false,
  unit: 'Wh',
  ...over,
});

describe('64-bit counters', () => {
  const image = new RegisterImage();
  // 2^53 + 1 Wh, and the same value in CDAB order at 10.
  image.set('holding', 0, [0x0020, 0x0000, 0x0000, 0x0001], 5);
  image.set('holding', 10, [0x0001, 0x0000, 0x0000, 0x0020], 5);

  it('stay exact (bigint) when no scaling is needed, in any word order', () => {
    const [a, b] = decodeDevice([point({}), point({ metric: 'import_total', address: 10, order: 'CDAB' })], [], image, { device: 'm' });
    expect(a).toEqual({ device: 'm', metric: 'energy_total', value: 9007199254740993n, unit: 'Wh', ts: 5 });
    expect(b?.value).toBe(9007199254740993n);
  });

  it('are never rounded silently: a scaled value beyond 2^53 is uncertain, precision_loss', () => {
    const [r] = decodeDevice([point({ scale: 0.001, unit: 'kWh' })], [], image, { device: 'm' });
    expect(r).toMatchObject({ value: 9007199254740.99, quality: 'uncertain', reason: 'precision_loss' });
    image.set('holding', 20, [0, 0, 0x0001, 0x0000], 6);
    const [small] = decodeDevice([point({ address: 20, scale: 0.001, unit: 'kWh' })], [], image, { device: 'm' });
    expect(small).toEqual({ device: 'm', metric: 'energy_total', value: 65.536, unit: 'kWh', ts: 6 });
  });
});
