import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { GatewayEvent, Sample } from '../../../gateway/model/types.js';
import { latest } from '../../../gateway/store/queries.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

/** Late data is stored at its own time; a copy of a stored sample or event is kept once and counted. */

const T0 = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
const vol = (ts: number, value: number, extra: Partial<Sample> = {}): Sample => ({ site: 't', device: 'wm-1', class: 'water_meter', metric: 'volume_total', ts, value, quality: 'good', ...extra });
const delivered = (ts: number, parcel: string): GatewayEvent => ({ site: 't', device: 'hub', class: 'parcel_locker', type: 'parcel_delivered', ts, attributes: { parcel } });

describe('store writes by identity', () => {
  let dir: { dir: string; cleanup: () => void };
  let store: Store;
  beforeEach(() => {
    dir = tempDir();
    store = Store.open({ path: join(dir.dir, 'gw.db'), site: 't' });
  });
  afterEach(() => {
    store.close();
    dir.cleanup();
  });

  it('stores a late sample at its own time and keeps the newest as the latest value', () => {
    expect(store.write([vol(T0 + 5 * HOUR, 150)])).toEqual({ samples: 0, events: 0 });
    expect(store.write([vol(T0 + 2 * HOUR, 120), vol(T0 + HOUR, 110)])).toEqual({ samples: 0, events: 0 });
    expect(store.samplesAfter(0, 10).map((x) => [x.ts - T0, x.value])).toEqual([
      [5 * HOUR, 150],
      [2 * HOUR, 120],
      [HOUR, 110],
    ]);
    expect(latest(store).map((l) => l.value)).toEqual([150]);
  });

  it('a replayed batch is stored once: no new log rows (sinks and rollups do not see it again), counted', () => {
    const day = Array.from({ length: 24 }, (_, h) => vol(T0 + h * HOUR, 100 + h));
    store.write(day);
    const before = store.maxSeq();
    expect(store.write(day)).toMatchObject({ samples: 24, events: 0 });
    expect(store.samplesAfter(before.samples, 100)).toEqual([]);
    expect(store.counts().samples).toBe(24);
  });

  it('another value, quality or reason at the same time is a correction: it replaces, under a new log position', () => {
    store.write([vol(T0, 100)]);
    const before = store.maxSeq();
    expect(store.write([vol(T0, 101)])).toEqual({ samples: 0, events: 0 });
    expect(store.write([vol(T0, 101, { quality: 'uncertain', reason: 'counter_reset' })])).toEqual({ samples: 0, events: 0 });
    const after = store.samplesAfter(before.samples, 10);
    expect(after.map((x) => [x.value, x.quality])).toEqual([[101, 'uncertain']]);
    expect(store.counts().samples).toBe(1);
  });

  it('a large batch (whole chunks of rows in one statement) judges copies, corrections and repeats within it exactly as row by row', () => {
    // Series a..c; 40 hours stored first, then a batch of 96 mixing new times, copies of stored
    // rows, corrections of stored rows, and the same new time twice (once the same, once changed).
    const s = (device: string, h: number, value: number, extra: Partial<Sample> = {}) => vol(T0 + h * HOUR, value, { device, ...extra });
    const first = ['a', 'b', 'c'].flatMap((d) => Array.from({ length: 40 }, (_, h) => s(d, h, h)));
    const batch: Sample[] = [];
    for (let k = 0; k < 96; k++) {
      const d = ['a', 'b', 'c'][k % 3] as string;
      const h = Math.floor(k / 3);
      if (k % 5 === 0) batch.push(s(d, h, h)); // a copy of a stored row
      else if (k % 5 === 1) batch.push(s(d, h, h + 0.5)); // a correction of a stored row
      else if (k % 5 === 2) batch.push(s(d, 100 + h, 7), s(d, 100 + h, 7)); // new, then its copy
      else if (k % 5 === 3) batch.push(s(d, 200 + h, 7), s(d, 200 + h, 8, { quality: 'uncertain', reason: 'counter_reset' })); // new, then corrected
      else batch.push(s(d, 300 + h, h)); // new
    }
    expect(batch.length).toBeGreaterThanOrEqual(64);
    const other = Store.open({ path: join(dir.dir, 'rows.db'), site: 't' });
    try {
      const rows = (st: Store) => st.samplesAfter(0, 10_000).map((x) => `${x.device} ${x.ts} ${x.value} ${x.quality} ${x.reason ?? ''}`).sort();
      store.write(first);
      other.write(first);
      const chunked = store.write(batch);
      // The reference: one sample per write (the row-by-row path).
      const single = batch.map((x) => other.write([x]));
      const copies = single.reduce((n, o) => n + o.samples, 0);
      expect(chunked.samples).toBe(copies);
      expect(copies).toBeGreaterThan(20);
      expect([...(chunked.copies ?? [])].length).toBe(copies);
      expect(rows(store)).toEqual(rows(other));
      expect(store.counts().samples).toBe(other.counts().samples);
      expect(latest(store).map((l) => [l.device, l.ts, l.value, l.quality])).toEqual(latest(other).map((l) => [l.device, l.ts, l.value, l.quality]));
    } finally {
      other.close();
    }
  });

  it('the same event again (a batch synced twice) is stored once and counted; another parcel at the same time is another event', () => {
    const a = delivered(T0, 'p_1');
    expect(store.write([], [a, delivered(T0, 'p_2')])).toEqual({ samples: 0, events: 0 });
    expect(store.write([], [a])).toMatchObject({ samples: 0, events: 1 });
    expect(store.counts().events).toBe(2);
  });
});
