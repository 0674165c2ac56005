import Database from 'better-sqlite3';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../../gateway/store/store.js';
import { tempDir } from '../../helpers/peers.js';

const mode = (p: string) => statSync(p).mode & 0o777;
const sample = { site: 't', device: 'm-1', class: 'grid_meter', metric: 'power', ts: 1_780_000_000_000, value: 1, quality: 'good' as const };

describe('store files: modes', () => {
  let dir: { dir: string; cleanup: () => void };
  let umask: number;
  beforeEach(() => {
    dir = tempDir('fcgw-files-');
    // The usual 022: without the store's own modes, files come out 0644 and directories 0755.
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
    dir.cleanup();
  });

  it('a new store: its directories 0700, the database, -wal and -shm 0600', () => {
    const path = join(dir.dir, 'data', 'site', 'gw.db');
    const store = Store.open({ path, site: 't' });
    store.write([sample]);
    expect(existsSync(`${path}-wal`) && existsSync(`${path}-shm`)).toBe(true);
    expect([mode(join(dir.dir, 'data')), mode(join(dir.dir, 'data', 'site'))]).toEqual([0o700, 0o700]);
    expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    store.close();
  });

  it('an existing store left world-readable is tightened to 0600, with a warning', () => {
    const path = join(dir.dir, 'gw.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    old.exec('CREATE TABLE x (a); INSERT INTO x VALUES (1)');
    // Kept open, so the -wal and -shm stay on disk as after a crash of an older release.
    expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([0o644, 0o644, 0o644]);
    let logged = '';
    const log = pino({}, new Writable({ write: (c: Buffer, _e, cb) => ((logged += c.toString()), cb()) }));
    const store = Store.open({ path, site: 't', log });
    expect([mode(path), mode(`${path}-wal`), mode(`${path}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    expect(logged).toMatch(/store files were readable by others/);
    store.close();
    old.close();
  });

  it('a file that is not a database is refused and left exactly as it was', () => {
    const path = join(dir.dir, 'passwd');
    writeFileSync(path, 'root:x:0:0:root:/root:/bin/bash\n');
    chmodSync(path, 0o644);
    expect(() => Store.open({ path, site: 't' })).toThrow(`store path ${path}: is not an SQLite database (left untouched)`);
    expect(mode(path)).toBe(0o644);
    expect(readFileSync(path, 'utf8')).toBe('root:x:0:0:root:/root:/bin/bash\n');
  });
});

describe('store files: paths that cannot hold a database fail fast, naming the path', () => {
  let dir: { dir: string; cleanup: () => void };
  beforeEach(() => (dir = tempDir('fcgw-files-')));
  afterEach(() => dir.cleanup());

  it.each([
    ['/proc/fcgw/gw.db', /^store path \/proc\/fcgw\/gw\.db: proc is a kernel pseudo-filesystem/],
    ['/proc/self/gw.db', /^store path \/proc\/self\/gw\.db: proc is a kernel pseudo-filesystem/],
    ['/sys/fcgw/gw.db', /^store path \/sys\/fcgw\/gw\.db: sys is a kernel pseudo-filesystem/],
    ['/dev/null', /^store path \/dev\/null: dev is a kernel pseudo-filesystem/],
  ])('%s', (path, message) => {
    expect(() => Store.open({ path, site: 't' })).toThrow(message);
  });

  it('a directory, a pipe, a file in place of a directory', () => {
    const fifo = join(dir.dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    mkdirSync(join(dir.dir, 'adir'));
    writeFileSync(join(dir.dir, 'afile'), 'x');
    expect(() => Store.open({ path: join(dir.dir, 'adir'), site: 't' })).toThrow(`store path ${join(dir.dir, 'adir')}: ${join(dir.dir, 'adir')} is a directory, not a database file`);
    expect(() => Store.open({ path: fifo, site: 't' })).toThrow(`store path ${fifo}: ${fifo} is a pipe, not a database file`);
    const under = join(dir.dir, 'afile', 'sub', 'gw.db');
    expect(() => Store.open({ path: under, site: 't' })).toThrow(new RegExp(`^store path ${join(dir.dir, 'afile')}.*(not a directory|ENOTDIR)`));
  });

  // Root passes every permission check; run the gateway as nobody to meet a directory it cannot write.
  const asNobody = process.getuid?.() === 0 && existsSync('/usr/sbin/runuser');
  it.skipIf(!asNobody)('a store directory the process may not write: the error names the path and the directory', () => {
    const locked = join(dir.dir, 'locked');
    mkdirSync(locked, { mode: 0o700 });
    const cfg = join(dir.dir, 'c.yaml');
    writeFileSync(cfg, `version: 1\nsite: { id: pt }\nstore: { path: ${locked}/gw.db }\napi: { host: 127.0.0.1, port: 0 }\n`);
    chmodSync(dir.dir, 0o755);
    chmodSync(cfg, 0o644);
    const r = spawnSync('/usr/sbin/runuser', ['-u', 'nobody', '--', process.execPath, join(import.meta.dirname, '../../../bin/fcgw.js'), 'start', '-c', cfg], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toContain(`store path ${locked}/gw.db: the directory ${locked} is not writable by this process (EACCES`);
    expect(r.status).not.toBe(0);
  });

  it('fcgw start with the store under /proc exits at once with the path, and never spins', async () => {
    const cfg = join(dir.dir, 'c.yaml');
    writeFileSync(cfg, 'version: 1\nsite: { id: pt }\nstore: { path: /proc/fcgw/gw.db }\napi: { host: 127.0.0.1, port: 0 }\n');
    const child = spawn(process.execPath, [join(import.meta.dirname, '../../../bin/fcgw.js'), 'start', '-c', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Old code: a synchronous mkdir loop at full CPU that not even SIGTERM interrupts.
    const term = setTimeout(() => child.kill('SIGTERM'), 8_000);
    const kill = setTimeout(() => child.kill('SIGKILL'), 12_000);
    const code = await exited;
    clearTimeout(term);
    clearTimeout(kill);
    expect(err).toContain('store path /proc/fcgw/gw.db: proc is a kernel pseudo-filesystem, not storage');
    expect(code).not.toBe(0);
  }, 20_000);
});
