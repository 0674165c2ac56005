import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commissionedOf } from '../../../gateway/model/commissioned.js';
import type { Reading } from '../../../gateway/model/types.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Dedupe, normalise, type NormaliseDeps } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

/**
 * Late counter readings are judged against their neighbour in time (the store's, or a late one of
 * the same commit), never against the newest: a backfill neither fakes a reset nor hides one.
 * A time before the device's commissioning is a wrong clock: bad_timestamp.
 */

const T0 = Date.UTC(2026, 5, 1);
const HOUR = 3_600_000;
const vol = (ts: number, value: number): Reading => ({ device: 'wm', metric: 'volume_total', value, unit: 'L', ts });

describe('late counter readings', () => {
  let dir: { dir: string; cleanup: () => void };
  let store: Store;
  let deps: NormaliseDeps;
  const commit = (readings: Reading[]) => {
    const res = normalise({ readings }, deps);
    store.write(res.samples, res.events);
    deps.counters.settle();
    return res;
  };
  beforeEach(() => {
    dir = tempDir();
    store = Store.open({ path: join(dir.dir, 'gw.db'), site: 't' });
    deps = {
      site: 't',
      deviceClass: (d) => (d === 'wm' ? 'water_meter' : undefined),
      counters: new CounterState(),
      dedupe: new Dedupe(),
      pseudo: new Pseudonymiser(Buffer.alloc(32, 1)),
      now: () => T0 + 48 * HOUR,
      history: store.history(),
      commissioned: (d) => (d === 'wm' ? T0 - 24 * HOUR : undefined),
    };
  });
  afterEach(() => {
    store.close();
    dir.cleanup();
  });

  it('a day replayed after newer live readings: stored at its own times, nothing flagged, the newest stays the state', () => {
    commit([vol(T0, 1000), vol(T0 + 25 * HOUR, 3500)]);
    // The replay, oldest first, in three commits (as a meter's buffered uplinks arrive).
    const replay = Array.from({ length: 24 }, (_, h) => vol(T0 + (h + 1) * HOUR, 1000 + (h + 1) * 100));
    for (let i = 0; i < 24; i += 8) {
      const res = commit(replay.slice(i, i + 8));
      expect(res.samples.map((s) => s.reason ?? 'ok')).toEqual(Array(8).fill('ok'));
    }
    // The next live reading continues from the newest (3500), not from the replay's last point.
    expect(commit([vol(T0 + 26 * HOUR, 3600)]).samples[0]?.quality).toBe('good');
    expect(store.counts().samples).toBe(27);
  });

  it('a late reading below its predecessor in time is a reset, judged against the store', () => {
    commit([vol(T0, 1000), vol(T0 + 10 * HOUR, 2000)]);
    const [s] = commit([vol(T0 + 5 * HOUR, 10)]).samples;
    expect(s).toMatchObject({ quality: 'uncertain', reason: 'counter_reset' });
  });

  it('within one commit, a late reading is judged against the late one before it (not yet stored)', () => {
    commit([vol(T0, 1000), vol(T0 + 10 * HOUR, 2000)]);
    const res = commit([vol(T0 + 4 * HOUR, 1500), vol(T0 + 5 * HOUR, 20)]);
    expect(res.samples.map((x) => x.reason ?? 'ok')).toEqual(['ok', 'counter_reset']);
  });

  it('before the device was commissioned, or more than a day ahead: bad_timestamp', () => {
    const res = normalise({ readings: [vol(T0 - 25 * HOUR, 5), vol(T0 + 73 * HOUR, 5), vol(T0 - 23 * HOUR, 5)] }, deps);
    expect(res.rejections.map((x) => x.reason)).toEqual(['bad_timestamp', 'bad_timestamp']);
    expect(res.rejections[0]?.detail).toMatch(/commissioned/);
    expect(res.rejections[1]?.detail).toMatch(/ahead/);
    expect(res.samples).toHaveLength(1);
  });

  it('options.commissioned takes an ISO date or instant, nothing else', () => {
    expect(commissionedOf({ commissioned: '2024-03-01' })).toBe(Date.UTC(2024, 2, 1));
    expect(commissionedOf({ commissioned: '2024-03-01T08:00:00+08:00' })).toBe(Date.UTC(2024, 2, 1));
    for (const bad of ['yesterday', '1709251200', '2024-13-45', '']) expect(commissionedOf({ commissioned: bad }), bad).toBeUndefined();
    expect(commissionedOf({ commissioned: 20240301 })).toBeUndefined();
  });
});
