import { describe, expect, it } from 'vitest';
import { LateSource, parcelSync, secondBayDelay } from '../../../simulators/transport/late.js';
import type { Outgoing, Source } from '../../../simulators/transport/outgoing.js';
import { transportSchema } from '../../../simulators/transport/index.js';

/** The simulators' late-data behaviours: held messages keep their own time and go out after newer ones. */

const H = 3_600_000;
const msg = (ts: number, topic: string, body: Record<string, unknown>): Outgoing => ({ ts, topic, body, tsKey: 'ts', tsFormat: 'ms', required: 'ts', typed: 'ts' });

function scripted(outs: Outgoing[]): Source {
  let i = 0;
  return {
    name: 'scripted',
    advance: (to) => {
      const due: Outgoing[] = [];
      while (i < outs.length && (outs[i] as Outgoing).ts <= to) due.push(outs[i++] as Outgoing);
      return due;
    },
    groundTruth: () => ({}),
  };
}

describe('late sources', () => {
  it('handhelds sync deliveries at the next full hour, after the arrivals that came meanwhile', () => {
    const platform = 'logistics/platform/hub/event';
    const src = new LateSource(
      scripted([msg(10 * 60_000, platform, { event: 'delivered', waybill: 'a' }), msg(20 * 60_000, platform, { event: 'arrived', waybill: 'b' }), msg(70 * 60_000, platform, { event: 'arrived', waybill: 'c' })]),
      parcelSync(H),
    );
    expect(src.advance(30 * 60_000).map((o) => o.body['waybill'])).toEqual(['b']);
    expect(src.holding).toBe(1);
    const next = src.advance(75 * 60_000);
    expect(next.map((o) => [o.body['waybill'], o.ts])).toEqual([
      ['c', 70 * 60_000],
      ['a', 10 * 60_000],
    ]);
    expect(src.release()).toEqual([]);
  });

  it('the second bay reports late; what is still held goes out on release, oldest first', () => {
    const src = new LateSource(
      scripted([msg(1000, 'g', { type: 'retrieval_complete', bay: 2, n: 1 }), msg(2000, 'g', { type: 'retrieval_complete', bay: 1, n: 2 }), msg(3000, 'g', { type: 'retrieval_complete', bay: 2, n: 3 })]),
      secondBayDelay(120_000),
    );
    expect(src.advance(10_000).map((o) => o.body['n'])).toEqual([2]);
    expect(src.release().map((o) => o.body['n'])).toEqual([1, 3]);
  });

  it('the scenario switches them on, and they are off by default', () => {
    expect(transportSchema.parse({}).late).toEqual({ parcel_sync: 0, garage_bay_delay: 0 });
    expect(transportSchema.parse({ late: { parcel_sync: '1h', water_outage: { at: '2h' } } }).late).toEqual({ parcel_sync: H, garage_bay_delay: 0, water_outage: { meter: 1, at: 2 * H, for: 24 * H } });
    expect(() => transportSchema.parse({ late: { parcel_sync: 'hourly' } })).toThrow(/not a duration/);
  });
});
