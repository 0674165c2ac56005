import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** True when running in CI, where a missing real peer must fail the run rather than skip. */
export const IN_CI = process.env['CI'] === 'true' || process.env['CI'] === '1';

/**
 * Locate a program a test needs as a real peer (mosquitto, influxd, victoria-metrics, mbpoll,
 * chromium, python3 with pymodbus). In CI a missing one throws; elsewhere the test skips and says why.
 */
export function findPeer(name: string, candidates: string[] = [name]): string | undefined {
  for (const c of candidates) {
    try {
      const p = execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
      if (p) return p;
    } catch {
      /* try the next candidate */
    }
  }
  const msg = `${name} is not installed (apt-get install it; .ci/run does)`;
  if (IN_CI) throw new Error(msg);
  console.warn(`SKIPPED: ${msg}`);
  return undefined;
}

/**
 * A TCP port free on loopback right now, drawn from below the kernel's ephemeral range
 * (32768–60999): a port from listen(0) is ephemeral, and any outgoing connection of another test
 * process may take it between our check and the server's listen (EADDRINUSE).
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  throw new Error('no free loopback port found in 20000–31999');
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A fresh temporary directory and a function that removes it. */
export function tempDir(prefix = 'fcgw-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Poll `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 50): Promise<NonNullable<T>> {
  const end = performance.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (performance.now() > end) throw new Error(`waitFor timed out after ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** Send `signal` to a child process and resolve once it has exited (at once if it already has). */
export function killAndWait(p: import('node:child_process').ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise<void>((r) => {
    if (p.exitCode !== null || p.signalCode !== null) return r();
    p.once('exit', () => r());
    p.kill(signal);
  });
}
