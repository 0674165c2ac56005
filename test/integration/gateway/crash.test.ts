import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

const child = join(import.meta.dirname, '../../fixtures/ingest-child.ts');

/** Run the ingesting child until it reports `until` committed, then SIGKILL it mid-ingest. */
function runAndKill(dbPath: string, from: number, until: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, dbPath, String(from)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let lastCommitted = -1;
    let buf = '';
    p.stdout.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const n = Number(l.split(' ')[1]);
        if (Number.isFinite(n)) lastCommitted = n;
      }
      if (lastCommitted >= until && p.exitCode === null && !p.killed) p.kill('SIGKILL');
    });
    p.on('exit', (_code, signal) => (signal === 'SIGKILL' ? resolve(lastCommitted) : reject(new Error(`child exited ${String(signal)}`))));
  });
}

describe('crash recovery', () => {
  it('loses nothing committed when the process is killed with SIGKILL mid-ingest, twice', async () => {
    const { dir, cleanup } = tempDir();
    const db = join(dir, 'crash.db');
    try {
      const first = await runAndKill(db, 0, 20_000);
      let store = Store.open({ path: db, site: 'crash' });
      expect(store.integrityCheck()).toBe('ok');
      const n1 = store.counts().samples;
      // Everything reported committed is there, in order; at most the in-flight batch beyond it.
      expect(n1).toBeGreaterThanOrEqual(first + 1);
      const values = store.samplesAfter(0, 1_000_000).map((s) => s.value);
      expect(values.slice(0, first + 1)).toEqual(Array.from({ length: first + 1 }, (_, i) => i));
      store.close();

      const second = await runAndKill(db, n1, n1 + 10_000);
      store = Store.open({ path: db, site: 'crash' });
      expect(store.integrityCheck()).toBe('ok');
      const all = store.samplesAfter(0, 1_000_000).map((s) => s.value);
      expect(all.length).toBeGreaterThanOrEqual(second + 1);
      expect(all.slice(0, second + 1)).toEqual(Array.from({ length: second + 1 }, (_, i) => i));
      store.close();
    } finally {
      cleanup();
    }
  }, 60_000);
});
