import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOT = join(import.meta.dirname, '../../..');

/**
 * The sink child bundled once into node_modules/.cache (packages stay external and resolve from
 * the repo's node_modules): starting 20 processes then costs node's startup, not 20 TypeScript
 * compilations on a 2-core machine.
 */
export async function bundleSinkChild(): Promise<string> {
  const dir = join(ROOT, 'node_modules/.cache/fcgw-tests');
  mkdirSync(dir, { recursive: true });
  const outfile = join(dir, `sink-child-${process.pid}.mjs`);
  await build({
    entryPoints: [join(import.meta.dirname, 'sink-child.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}

export interface SinkChild {
  proc: ChildProcess;
  started: Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; sent: number | undefined; stderr: string }>;
}

export function runSinkChild(bundle: string, options: Record<string, unknown>): SinkChild {
  const proc = spawn(process.execPath, [bundle], {
    env: { ...process.env, FCGW_SINK_CHILD: JSON.stringify(options) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onStart: () => void = () => undefined;
  const started = new Promise<void>((r) => (onStart = r));
  proc.stdout?.on('data', (c: Buffer) => {
    out += c.toString();
    if (out.includes('"started":true')) onStart();
  });
  proc.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; sent: number | undefined; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => {
      const m = /"sent":(\d+)/.exec(out);
      resolve({ code, signal, sent: m ? Number(m[1]) : undefined, stderr: err });
    }),
  );
  return { proc, started, exited };
}
