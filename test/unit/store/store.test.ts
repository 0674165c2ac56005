import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../gateway/model/clock.js';
import type { Sample } from '../../../gateway/model/types.js';
import { enforceRetention, updateRollups } from '../../../gateway/store/maintenance.js';
import { latest, queryEvents, rawSeries, rollupSeries } from '../../../gateway/store/queries.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

const T0 = Date.UTC(2026, 5, 1);
const DAY = 86_400_000;
const s = (device: string, metric: string, ts: number, value: Sample['value'], extra: Partial<Sample> = {}): Sample => ({
  site: 'test',
  device,
  class: metric === 'occupied' ? 'parking_space' : 'grid_meter',
  metric,
  ts,
  value,
  quality: 'good',
  ...extra,
});

describe('store', () => {
  let dir: { dir: string; cleanup: () => void };
  let clock: ManualClock;
  let store: Store;
  const path = () => join(dir.dir, 'gw.db');

  beforeEach(() => {
    dir = tempDir();
    clock = new ManualClock(T0 + 10 * DAY);
    store = Store.open({ path: path(), site: 'test', clock });
  });
  afterEach(() => {
    store.close();
    dir.cleanup();
  });

  it('writes a batch in one transaction, keeps types, and serves latest/series/events', () => {
    store.write(
      [s('m1', 'power', T0, 1500), s('m1', 'power', T0 + 60_000, -200, { quality: 'uncertain', reason: 'stale' }), s('p1', 'occupied', T0, true)],
      [{ site: 'test', device: 'g1', class: 'parking_garage', type: 'vehicle_entry', ts: T0, attributes: { vehicle: 'p_x', gate: 'n' } }],
    );
    expect(rawSeries(store, 'm1', 'power', T0, T0 + DAY)).toEqual([
      [T0, 1500, 'good'],
      [T0 + 60_000, -200, 'uncertain'],
    ]);
    expect(latest(store).map((l) => [l.device, l.metric, l.value, l.quality, l.reason ?? null])).toEqual([
      ['m1', 'power', -200, 'uncertain', 'stale'],
      ['p1', 'occupied', true, 'good', null],
    ]);
    expect(queryEvents(store, { type: 'vehicle_entry' }).map((e) => e.attributes)).toEqual([{ vehicle: 'p_x', gate: 'n' }]);
  });

  it('replaces the same series+ts with a new log position, and stores a repeated event once', () => {
    store.write([s('m1', 'power', T0, 1)]);
    store.write([s('m1', 'power', T0, 2)]);
    const ev = { site: 'test', device: 'g1', class: 'parking_garage', type: 'vehicle_exit', ts: T0, attributes: { vehicle: 'p_y', gate: 's' } };
    store.write([], [ev]);
    store.write([], [ev]);
    const all = store.samplesAfter(0, 10);
    expect(all.map((x) => x.value)).toEqual([2]);
    expect(all[0]?.seq).toBeGreaterThan(1);
    expect(store.eventsAfter(0, 10)).toHaveLength(1);
  });

  it('serves the log after a cursor and keeps cursors durable across reopen', () => {
    store.write(Array.from({ length: 100 }, (_, i) => s('m1', 'power', T0 + i * 1000, i)));
    const first = store.samplesAfter(0, 40);
    expect(first.map((x) => x.value)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    store.setCursor('sink:a', { samples: (first.at(-1) as { seq: number }).seq });
    store.close();
    store = Store.open({ path: path(), site: 'test', clock });
    const cur = store.getCursor('sink:a');
    expect(cur).toEqual({ samples: 40, events: 0 });
    expect(store.samplesAfter(cur?.samples ?? 0, 1000).map((x) => x.value)).toEqual(Array.from({ length: 60 }, (_, i) => i + 40));
    expect(store.maxSeq()).toEqual({ samples: 100, events: 0 });
  });

  it('finds where a backfill from a time starts', () => {
    store.write([s('m1', 'power', T0, 1), s('m1', 'power', T0 + 2000, 2), s('m1', 'power', T0 + 4000, 3)]);
    const c = store.firstSeqAtOrAfter(T0 + 1000);
    expect(store.samplesAfter(c.samples, 10).map((x) => x.value)).toEqual([2, 3]);
  });

  it('builds 1-minute and 1-hour rollups (avg, min, max, last) incrementally, including late data', () => {
    store.write([0, 10, 20, 30, 40, 50].map((sec, i) => s('m1', 'power', T0 + sec * 1000, i * 10)));
    store.write([s('m1', 'power', T0 + 61_000, 100), s('m1', 'power', T0 + 62_000, 0, { quality: 'bad' })]);
    // A value only slightly beyond the nameplate is `uncertain`/implausible: kept, never aggregated.
    store.write([s('m1', 'power', T0 + 63_000, 9_000, { quality: 'uncertain', reason: 'implausible' })]);
    expect(updateRollups(store)).toBe(9);
    store.write([s('m1', 'power', T0 + 5000, 500)]); // late, inside the first minute
    expect(updateRollups(store)).toBe(1);
    const m = rollupSeries(store, 'm1', 'power', T0, T0 + 3_600_000, '1m');
    expect(m).toEqual([
      { ts: T0, count: 7, avg: (0 + 10 + 20 + 30 + 40 + 50 + 500) / 7, min: 0, max: 500, last: 50 },
      { ts: T0 + 60_000, count: 1, avg: 100, min: 100, max: 100, last: 100 },
    ]);
    const h = rollupSeries(store, 'm1', 'power', T0, T0 + 3_600_000, '1h');
    expect(h).toEqual([{ ts: T0, count: 8, avg: 750 / 8, min: 0, max: 500, last: 100 }]);
  });

  it('never deletes by age what a consumer has not read, and deletes it once read', () => {
    store.write([s('m1', 'power', T0, 1), s('m1', 'power', T0 + 1, 2)]);
    store.setCursor('sink:slow', { samples: 0 });
    const policy = { rawMs: DAY, rollupsMs: 400 * DAY, eventsMs: 400 * DAY, maxDiskBytes: 1e9, overflow: 'drop_oldest' as const };
    expect(enforceRetention(store, policy).expiredSamples).toBe(0);
    store.setCursor('sink:slow', { samples: 2 });
    expect(enforceRetention(store, policy).expiredSamples).toBe(2);
    expect(store.samplesAfter(0, 10)).toEqual([]);
  });

  it('at the disk cap drops the oldest samples, even unsent ones, and says how many', () => {
    const big = Array.from({ length: 20_000 }, (_, i) => s(`m${i % 50}`, 'power', T0 + 10 * DAY - 1000 + i, i));
    store.write(big);
    store.setCursor('sink:down', { samples: 0 });
    const size = store.sizeBytes();
    const res = enforceRetention(store, { rawMs: 30 * DAY, rollupsMs: 400 * DAY, eventsMs: 400 * DAY, maxDiskBytes: size / 2, overflow: 'drop_oldest' });
    expect(res).toMatchObject({ reachedCap: true, overCap: false, droppedSent: 0, droppedEventsSent: 0, droppedEventsUnsent: 0 });
    expect(res.droppedUnsent).toBeGreaterThan(0);
    const left = store.samplesAfter(0, 100_000);
    expect(left.length).toBe(20_000 - res.droppedUnsent);
    expect(left[0]?.value).toBe(res.droppedUnsent); // the oldest went first
    expect(res.sizeBytes).toBeLessThanOrEqual(size / 2);
  });

  it('at the disk cap drops events too: sent ones with sent samples first, unsent ones last', () => {
    const t = T0 + 10 * DAY - 100_000;
    const ev = (i: number) => ({ site: 'test', device: `door-${i % 20}`, class: 'access_door', type: 'access_denied', ts: t + i, attributes: { door: `d${i % 20}`, note: 'x'.repeat(200) } });
    store.write(
      Array.from({ length: 4_000 }, (_, i) => s(`m${i % 10}`, 'power', t + i, i)),
      Array.from({ length: 8_000 }, (_, i) => ev(i)),
    );
    // A sink has every sample and the first half of the events.
    store.setCursor('sink:half', { samples: 4_000, events: 4_000 });
    const size = store.sizeBytes();
    const policy = { rawMs: 30 * DAY, rollupsMs: 400 * DAY, eventsMs: 400 * DAY, maxDiskBytes: size * 0.35, overflow: 'drop_oldest' as const };
    const res = enforceRetention(store, policy);
    expect(res).toMatchObject({ reachedCap: true, overCap: false, droppedSent: 4_000, droppedEventsSent: 4_000, droppedUnsent: 0 });
    expect(res.droppedEventsUnsent).toBeGreaterThan(0);
    const left = queryEvents(store, { from: 0, to: Number.MAX_SAFE_INTEGER, limit: 10_000 });
    expect(left.length).toBe(4_000 - res.droppedEventsUnsent);
    expect(Math.min(...left.map((e) => e.ts))).toBe(t + 4_000 + res.droppedEventsUnsent);
    expect(store.counts()).toMatchObject({ samples: 0, events: 4_000 - res.droppedEventsUnsent });
    expect(res.sizeBytes).toBeLessThanOrEqual(size * 0.35);

    // reject_new drops nothing and stays over the cap.
    store.write([], Array.from({ length: 8_000 }, (_, i) => ev(10_000 + i)));
    const again = enforceRetention(store, { ...policy, maxDiskBytes: store.sizeBytes() / 2, overflow: 'reject_new' });
    expect(again).toMatchObject({ reachedCap: true, overCap: true, droppedSent: 0, droppedUnsent: 0, droppedEventsSent: 0, droppedEventsUnsent: 0 });
  });

  it('marks a silent device stale in place without a new timestamp', () => {
    store.write([s('m1', 'power', T0, 5)]);
    store.markStale('m1');
    expect(latest(store)[0]).toMatchObject({ ts: T0, value: 5, quality: 'uncertain', reason: 'stale' });
    store.write([s('m1', 'power', T0 + 1000, 6)]);
    expect(latest(store)[0]).toMatchObject({ ts: T0 + 1000, value: 6, quality: 'good' });
  });
});
