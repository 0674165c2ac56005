import type Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';

/** WAL frames (pages) at a checkpoint that keep the thread checkpointing every tick: about 1 MB. */
const BUSY_FRAMES = 256;
/**
 * Rows committed within WINDOW_MS that start the thread: 200 a second. Below that, SQLite's own
 * checkpoint (at 1,000 WAL pages, some 10,000 rows) falls inside a commit about once a minute or
 * less, and the thread would cost more (an isolate of its own, about 8 MB) than it saves.
 */
const START_ROWS = 1_000;
const WINDOW_MS = 5_000;

/**
 * WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs inside the commit
 * that crosses 1,000 WAL pages, so that one commit also copies the WAL into the database and
 * fsyncs both: 8-20 ms every ~120 ms at 5,000 msg/s, and every MQTT acknowledgement behind it
 * waits. Here the store's connection turns automatic checkpoints off and a worker thread with its
 * own connection runs PASSIVE checkpoints (they never block a writer): every 200 ms while the
 * WAL is busy, at most every 2 s while it is quiet, and not at all while nothing is committed.
 *
 * The thread starts only once the store commits at a rate that calls for it (START_ROWS within
 * WINDOW_MS, from `committed()`): until then, and for a quiet site all along, SQLite checkpoints
 * inside the commits as it does by default, rarely at that rate, and the process carries no
 * second isolate.
 *
 * If the worker stops for any reason, the store's connection takes automatic checkpoints back, so
 * the WAL can never grow without bound. The WAL stays the durable log: a crash loses nothing.
 */
export class WalCheckpointer {
  /** The thread while it runs; before it starts (no worker, not ended) SQLite checkpoints in commits. */
  private worker: Worker | undefined;
  /** Stopped, or fell back to SQLite's checkpoints: for good. */
  private ended = false;
  private windowStart = 0;
  private windowRows = 0;
  private exited: Promise<void> | undefined;
  /** Checkpoints run and WAL frames copied, from the worker's reports. */
  readonly stats = { runs: 0, frames: 0, busy: 0 };

  private constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly everyMs: number,
    private readonly idleMs: number,
    private readonly log: Logger | undefined,
  ) {}

  /**
   * For a file database in WAL mode (`undefined` for `:memory:`), in standby: the thread starts
   * when `committed()` sees the rate that calls for it.
   */
  static start(db: Database.Database, path: string, opts: { everyMs?: number; idleMs?: number; log?: Logger } = {}): WalCheckpointer | undefined {
    if (path === ':memory:') return undefined;
    return new WalCheckpointer(db, path, opts.everyMs ?? 200, opts.idleMs ?? 2_000, opts.log);
  }

  /** The store committed `rows` rows: starts the thread once START_ROWS come within WINDOW_MS. */
  committed(rows: number): void {
    if (this.worker || this.ended) return;
    const now = performance.now();
    if (now - this.windowStart > WINDOW_MS) {
      this.windowStart = now;
      this.windowRows = 0;
    }
    this.windowRows += rows;
    if (this.windowRows >= START_ROWS) this.spawn();
  }

  private spawn(): void {
    const { path, everyMs, idleMs } = this;
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
      // stop() lets go of the worker first: past the check above, the thread stopped by itself.
      this.worker = undefined;
      this.ended = true;
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
    this.log?.info({ rows: this.windowRows, window_ms: WINDOW_MS }, 'WAL checkpoints moved to their own thread (the store commits at a rate that calls for it)');
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
    this.ended = true;
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
let last = -Infinity;
let busyWal = false;
const run = () => {
  try {
    const version = db.pragma('data_version', { simple: true });
    if (version === seen) return;
    const now = performance.now(); // monotonic: a clock stepped back must not hold checkpoints off
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
