import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../gateway/model/types.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';

/** WAL checkpoints on their own thread: the store's commits never copy the WAL themselves. */
const T0 = Date.UTC(2026, 5, 1);
const rows = (from: number, n: number): Sample[] =>
  Array.from({ length: n }, (_, i) => ({ site: 't', device: `m${i % 20}`, class: 'grid_meter', metric: 'power', ts: T0 + from + i, value: i, quality: 'good' }));

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

/** A store in a temp dir that asks for the checkpoint thread (removed after the test). */
function threadedStore(): { path: string; store: Store } {
  const t = tempDir('fcgw-ckpt-');
  cleanup = t.cleanup;
  const path = join(t.dir, 'gw.db');
  return { path, store: Store.open({ path, site: 't', checkpointThread: true }) };
}

describe('WAL checkpoint thread', () => {
  it('keeps checkpoints out of commits, moves the WAL into the database, and falls back if the thread dies', async () => {
    const { path, store } = threadedStore();
    try {
      // In standby until the write rate calls for the thread: SQLite checkpoints in commits.
      expect(store.checkpointer?.running).toBe(false);
      expect(store.walAutocheckpoint()).toBe(1000);
      const initial = statSync(path).size;
      store.write(rows(0, 5_000));
      expect(store.checkpointer?.running).toBe(true);
      expect(store.walAutocheckpoint()).toBe(0);
      for (let b = 1; b < 20; b++) store.write(rows(b * 5_000, 5_000));
      // Only the thread can have copied pages into the database file: the store's connection never checkpoints.
      await waitFor(() => (store.checkpointer?.stats.frames ?? 0) > 1_000 && statSync(path).size > initial + 1_000_000, 10_000);
      expect(store.counts().samples).toBe(100_000);
      expect(store.walBytes()).toBeGreaterThan(0);

      // The thread dies: the store takes automatic checkpoints back, so the WAL cannot grow unbounded.
      await (store.checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
      await waitFor(() => store.checkpointer?.running === false, 5_000);
      expect(store.walAutocheckpoint()).toBe(1000);
    } finally {
      store.close();
    }
    // Closing truncates the WAL; the database opens whole.
    expect(existsSync(`${path}-wal`) ? statSync(`${path}-wal`).size : 0).toBe(0);
    expect(store.walBytes()).toBe(0);
    const again = Store.open({ path, site: 't' });
    expect(again.integrityCheck()).toBe('ok');
    expect(again.counts().samples).toBe(100_000);
    again.close();
  }, 30_000);

  it('leaves a quiet WAL alone: no checkpoint while nothing is committed', async () => {
    const t = tempDir('fcgw-ckpt-');
    cleanup = t.cleanup;
    const store = Store.open({ path: join(t.dir, 'gw.db'), site: 't', checkpointThread: true });
    try {
      store.write(rows(0, 1_000));
      await waitFor(() => (store.checkpointer?.stats.frames ?? 0) > 0, 5_000);
      const runs = store.checkpointer?.stats.runs ?? 0;
      // Seven of the thread's 200 ms ticks with nothing committed; stop() reports its final counts.
      await new Promise((r) => setTimeout(r, 1_400));
      await store.checkpointer?.stop();
      expect(store.checkpointer?.stats.runs).toBe(runs);
      expect(store.counts().samples).toBe(1_000);
    } finally {
      store.close();
    }
  });

  it('stays in standby while the store commits slowly: no thread, SQLite checkpoints in commits', async () => {
    const { path, store } = threadedStore();
    try {
      // 900 rows in 9 commits, well within 5 s: under the 1,000 that start the thread.
      for (let b = 0; b < 9; b++) store.write(rows(b * 100, 100));
      await new Promise((r) => setTimeout(r, 300));
      expect(store.checkpointer?.running).toBe(false);
      expect(store.checkpointer?.stats.runs).toBe(0);
      expect(store.walAutocheckpoint()).toBe(1000);
      // The 1,000th row in the window starts it.
      store.write(rows(900, 100));
      expect(store.checkpointer?.running).toBe(true);
      expect(store.walAutocheckpoint()).toBe(0);
      await waitFor(() => (store.checkpointer?.stats.frames ?? 0) > 0, 5_000);
    } finally {
      store.close();
    }
    const again = Store.open({ path, site: 't' });
    expect(again.counts().samples).toBe(1_000);
    again.close();
  });

  it('is not started for an in-memory store or unless asked', () => {
    const mem = Store.open({ path: ':memory:', site: 't', checkpointThread: true });
    expect(mem.checkpointer).toBeUndefined();
    mem.close();
    const t = tempDir('fcgw-ckpt-');
    cleanup = t.cleanup;
    const plain = Store.open({ path: join(t.dir, 'gw.db'), site: 't' });
    expect(plain.checkpointer).toBeUndefined();
    expect(plain.walAutocheckpoint()).toBe(1000);
    plain.close();
  });
});
