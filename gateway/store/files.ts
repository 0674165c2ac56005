import { accessSync, chmodSync, closeSync, constants, mkdirSync, openSync, readSync, statfsSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';

/**
 * The store's files on disk: where they may live and who may read them. The database holds
 * every reading of the community (door events, plates before pseudonymisation of later fields,
 * meter data), so it is the owner's alone: the database, its -wal and -shm are 0600 and a data
 * directory the gateway creates is 0700. SQLite gives the -wal and -shm the database file's own
 * mode, so creating the (empty) database file 0600 ourselves covers them; files left more open
 * by an older release are tightened on the next start.
 *
 * A path that cannot hold a database fails here, fast and naming the path: Node's recursive
 * mkdir loops forever on a pseudo-filesystem (`mkdirSync('/proc/x/y', { recursive: true })`
 * spins at full CPU inside one synchronous call, so not even SIGTERM gets through).
 */

export class StoreFileError extends Error {
  constructor(
    readonly code: 'STORE_PATH',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
/** Files SQLite keeps beside the database. */
const COMPANIONS = ['', '-wal', '-shm', '-journal'];

// statfs f_type of kernel pseudo-filesystems: their files are not storage (linux/magic.h).
const PSEUDO_FS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1373, 'devtmpfs'],
  [0x64626720, 'debugfs'],
  [0x63677270, 'cgroup2'],
  [0x27e0eb, 'cgroup'],
  [0x73636673, 'securityfs'],
  [0x6e736673, 'nsfs'],
  [0xcafe4a11, 'bpf'],
]);
const PSEUDO_PREFIXES = ['/proc', '/sys', '/dev'];

function fail(path: string, why: string, cause?: unknown): never {
  throw new StoreFileError('STORE_PATH', `store path ${path}: ${why}`, cause === undefined ? undefined : { cause });
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return fail(path, `cannot be examined (${(err as Error).message})`, err);
  }
}

function kind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a pipe';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The nearest existing ancestor of `dir`, and the components below it that must be created. */
function existingAncestor(dir: string): { base: string; missing: string[] } {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    const st = statOrUndefined(cur);
    if (st) {
      if (!st.isDirectory()) fail(dir, `${cur} is ${kind(st)}, not a directory`);
      return { base: cur, missing };
    }
    const up = dirname(cur);
    if (up === cur) return { base: cur, missing };
    missing.unshift(cur);
    cur = up;
  }
}

function refusePseudoFs(path: string, existing: string): void {
  if (PSEUDO_PREFIXES.some((p) => path === p || path.startsWith(`${p}${sep}`))) fail(path, `${path.split(sep)[1]} is a kernel pseudo-filesystem, not storage`);
  let type: number | undefined;
  try {
    type = statfsSync(existing).type;
  } catch {
    return;
  }
  const name = PSEUDO_FS.get(type);
  if (name) fail(path, `${existing} is on ${name}, a kernel pseudo-filesystem, not storage`);
}

/** chmod down to `mode` when group or others have more; only the owner (or root) can, and it is ours. */
function tighten(path: string, st: Stats, mode: number): boolean {
  if ((st.mode & 0o077 & ~mode) === 0) return false;
  if (typeof process.getuid === 'function' && process.getuid() !== 0 && st.uid !== process.getuid()) return false;
  chmodSync(path, mode);
  return true;
}

/**
 * Make `path` ready for better-sqlite3: refuse pseudo-filesystems and non-regular files, create
 * missing directories 0700 (one level at a time), create the database file 0600, tighten the
 * modes of existing store files, and check the directory is writable. Returns the files whose
 * modes were tightened (for a log line). `:memory:` needs nothing.
 */
export function prepareStorePath(path: string): { tightened: string[] } {
  if (path === ':memory:' || path === '') return { tightened: [] };
  const abs = resolve(path);
  const dir = dirname(abs);
  const { base, missing } = existingAncestor(dir);
  refusePseudoFs(abs, base);
  for (const d of missing) {
    try {
      mkdirSync(d, { mode: DIR_MODE });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail(path, `cannot create the directory ${d} (${(err as Error).message})`, err);
    }
  }
  // mkdir's mode passes through the umask; the directory must not end up more open than 0700.
  if (missing.length) for (const d of missing) chmodSync(d, DIR_MODE);
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    fail(path, `the directory ${dir} is not writable by this process (${(err as Error).message})`, err);
  }
  const main = statOrUndefined(abs);
  // Never change (or let SQLite write into) a file that is not a database: a mistyped path
  // such as /etc/passwd must stay exactly as it was.
  if (main && main.isFile() && main.size > 0 && !isSqlite(abs)) fail(path, 'is not an SQLite database (left untouched)');
  const tightened: string[] = [];
  for (const suffix of COMPANIONS) {
    const f = `${abs}${suffix}`;
    const st = statOrUndefined(f);
    if (!st) continue;
    if (!st.isFile()) fail(path, `${f} is ${kind(st)}, not a database file`);
    if (tighten(f, st, FILE_MODE)) tightened.push(f);
  }
  if (!statOrUndefined(abs)) {
    try {
      // An empty file is a valid new database; created here so its mode is 0600 from the start.
      closeSync(openSync(abs, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, FILE_MODE));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') fail(path, `cannot create the database file (${(err as Error).message})`, err);
    }
  }
  return { tightened };
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

function isSqlite(file: string): boolean {
  const head = Buffer.alloc(SQLITE_HEADER.length);
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY);
    return readSync(fd, head, 0, head.length, 0) === head.length && head.equals(SQLITE_HEADER);
  } catch (err) {
    return fail(file, `cannot be read (${(err as Error).message})`, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** An error of opening the database, with the path in it (SQLite's own messages never name it). */
export function storeOpenError(path: string, err: unknown): StoreFileError {
  const e = err as { message?: string; code?: string };
  return new StoreFileError('STORE_PATH', `store path ${path}: cannot open the database (${e.message ?? String(err)}${e.code ? ` [${e.code}]` : ''})`, { cause: err });
}
