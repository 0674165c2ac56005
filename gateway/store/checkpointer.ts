import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** WAL frames (pages) at a checkpoint that keep the thread checkpointing every tick: about 1 MB. */
const BUSY_FRAMES = 256;

/**
 * WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the commit
 * that crosses 1,000 WAL pages, so that one commit also copies the WAL into the database and
 * fsyncs both: 8-20 ms every ~120 ms at 5,000 msg/s, and every MQTT acknowledgement behind it
 * waits. Here the store's connection turns automatic checkpoints off and a worker thread with its
 * own connection runs PASSIVE checkpoints (they never block a writer): every 200 ms while the
 * WAL is busy, at most every 2 s while it is quiet, and not at all while nothing is committed.
 *
 * If the worker stops for any reason, the store's connection takes automatic checkpoints back, so
 * the WAL can never grow without bound. The WAL stays the durable log: a crash loses nothing.
 */
export class WalCheckpointer {
  private worker: Worker | undefined;
  private stopped = false;
  private exited: Promise<void> | undefined;
  /** Checkpoints run and WAL frames copied, from the worker's reports. */
  readonly stats = { runs: 0, frames: 0, busy: 0 };

  private constructor(
    private readonly db: Database.Database,
    private readonly log: Logger | undefined,
  ) {}

  /** Start for a file database in WAL mode; `undefined` for `:memory:`. */
  static start(db: Database.Database, path: string, opts: { everyMs?: number; idleMs?: number; log?: Logger } = {}): WalCheckpointer | undefined {
    if (path === ':memory:') return undefined;
    const c = new WalCheckpointer(db, opts.log);
    c.spawn(path, opts.everyMs ?? 200, opts.idleMs ?? 2_000);
    return c;
  }

  private spawn(path: string, everyMs: number, idleMs: number): void {
    // A plain CommonJS worker (no TypeScript loader needed): it opens its own connection.
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    // A few MB of heap is all it needs (its RSS is about 9 MB, mostly the isolate itself).
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, everyMs, idleMs, busyFrames: BUSY_FRAMES, sqlite }, resourceLimits: { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 2 } });
    worker.unref();
    worker.on('message', (m: { runs: number; frames: number; busy: number }) => {
      this.stats.runs = m.runs;
      this.stats.frames = m.frames;
      this.stats.busy = m.busy;
    });
    const fallBack = (why: string, err?: unknown) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.stopped) return;
      this.log?.warn({ err, why }, 'WAL checkpoint thread stopped: the store checkpoints inside commits again');
      try {
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      } catch {
        /* the store is closing */
      }
    };
    worker.on('error', (err) => fallBack('error', err));
    worker.on('exit', (code) => fallBack(`exit ${code}`));
    this.worker = worker;
    this.db.pragma('wal_autocheckpoint = 0');
  }

  get running(): boolean {
    return this.worker !== undefined;
  }

  /**
   * Stop the thread: it closes its connection and exits (terminated if it has not within 2 s).
   * Resolves once it has, so the store's own close is then the last one (and removes the WAL
   * file); `Store.close()` calls it without waiting, the gateway waits.
   */
  stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    this.worker = undefined;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
    if (w) {
      const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
      const timer = setTimeout(() => void w.terminate(), 2_000);
      timer.unref();
      // Held (referenced) while it winds down: a process waiting for it must not see an empty event loop.
      w.ref();
      w.postMessage('stop');
      this.exited = exited.finally(() => clearTimeout(timer));
    }
    return this.exited ?? Promise.resolve();
  }
}

// Each tick asks SQLite whether another connection has committed since the last look
// (`data_version`, read from the WAL index in shared memory: no I/O). Nothing new: nothing to
// do. A busy WAL (a checkpoint found at least BUSY_FRAMES frames) is checkpointed every tick;
// a quiet one at most every idleMs, since each checkpoint that copies frames also fsyncs the
// database file: a community at 1x commits a few times a second, and checkpointing each of those
// commits was most of this thread's CPU and many small disk writes.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 1000');
const stats = { runs: 0, frames: 0, busy: 0 };
let seen = -1;
let last = 0;
let busyWal = false;
const run = () => {
  try {
    const version = db.pragma('data_version', { simple: true });
    if (version === seen) return;
    const now = Date.now();
    if (!busyWal && now - last < workerData.idleMs) return;
    last = now;
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    stats.runs++;
    busyWal = r.log >= workerData.busyFrames;
    // Complete: the next look can skip until someone commits. Partial (a reader held frames): again next tick.
    if (!r.busy && r.checkpointed >= r.log) seen = version;
    if (r.busy) stats.busy++;
    if (r.checkpointed > 0) stats.frames += r.checkpointed;
    if (r.checkpointed > 0 || stats.runs % 25 === 0) parentPort.postMessage(stats);
  } catch (err) {
    if (err && err.code === 'SQLITE_BUSY') { stats.busy++; return; }
    throw err;
  }
};
const timer = setInterval(run, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  parentPort.postMessage(stats);
  db.close();
  parentPort.close();
});
`;
