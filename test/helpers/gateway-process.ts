import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../bin/fcgw.js');

export interface RunningGateway {
  proc: ChildProcess;
  apiUrl: string;
  stderr: () => string;
  stdout: () => string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Start `fcgw start -c FILE` as a real child process and wait for its banner. */
export function startGatewayProcess(configFile: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 30_000, cwd?: string): Promise<RunningGateway> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, 'start', '-c', configFile], {
      env: { ...process.env, FCGW_SITE_SECRET: 'test-secret-0123456789abcdef', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(cwd ? { cwd } : {}),
    });
    let err = '';
    let out = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`gateway did not start within ${timeoutMs} ms:\n${err}\n${out.slice(-2000)}`));
    }, timeoutMs);
    proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    proc.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      const m = /health\s+(http:\/\/[^\s]+)\/api\/health/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, apiUrl: m[1] as string, stderr: () => err, stdout: () => out, exited });
      }
    });
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`gateway exited (${code}) before starting:\n${err}\n${out.slice(-2000)}`));
    });
  });
}
