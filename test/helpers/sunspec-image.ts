import { execFileSync, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { findPeer, IN_CI } from './peers.js';

/**
 * A SunSpec device image served by pymodbus (test/fixtures/pymodbus/sunspec_image.py): built by
 * Python from the Alliance's model definitions, with values the test chooses. Not our simulator.
 */

export interface ImageModel {
  id: number;
  values?: Record<string, number | string | null>;
  blocks?: Record<string, number | string | null>[];
  /** Vendor padding after the definition's points (L grows by this). */
  pad?: number;
  /** An explicit L. */
  length?: number;
}

export interface ImageUnit {
  base?: number;
  /** false: no end marker. */
  end?: boolean;
  models: ImageModel[];
}

export interface SunSpecImage {
  port: number;
  units: Record<string, { id: number; address: number; length: number }[]>;
  /** Rewrite one point (`block`: index of a repeating block); resolves once the server has it. */
  set(unit: number, model: number, point: string, value: number | string | null, block?: number): Promise<void>;
  /** SIGTERM, resolved once the process has exited (its port is free again). */
  stop(): Promise<void>;
}

/** Debian's python3 with pymodbus, or undefined (the test is skipped; in CI it fails). */
export function pymodbusPython(): string | undefined {
  const py = findPeer('python3 (with pymodbus)', ['/usr/bin/python3', 'python3']);
  if (!py) return undefined;
  try {
    execFileSync(py, ['-c', 'import pymodbus.server'], { stdio: 'ignore' });
    return py;
  } catch {
    const msg = `${py} has no pymodbus (apt-get install python3-pymodbus)`;
    if (IN_CI) throw new Error(msg);
    console.warn(`SKIPPED: ${msg}`);
    return undefined;
  }
}

const FIXTURE = fileURLToPath(new URL('../fixtures/pymodbus/sunspec_image.py', import.meta.url));

export async function serveSunSpecImage(py: string, port: number, units: Record<number, ImageUnit>): Promise<SunSpecImage> {
  const child = spawn(py, [FIXTURE, String(port), JSON.stringify({ units })], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const lines = createInterface({ input: child.stdout });
  const waiting: ((line: string) => void)[] = [];
  lines.on('line', (l) => waiting.shift()?.(l));
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting.push(resolve);
      child.once('exit', (code) => reject(new Error(`sunspec_image.py exited ${code}: ${stderr}`)));
    });
  const first = JSON.parse(await next()) as { units: SunSpecImage['units'] };
  return {
    port,
    units: first.units,
    async set(unit, model, point, value, block) {
      const ack = next();
      child.stdin.write(`${JSON.stringify({ unit, model, point, value, ...(block !== undefined ? { block } : {}) })}\n`);
      await ack;
    },
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      return exited;
    },
  };
}
