import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findPeer, freePort, waitFor } from './peers.js';

/**
 * Real time-series servers for tests, from the Debian packages, on free loopback ports with
 * their data in a temp dir: VictoriaMetrics (InfluxDB v2 write API at /api/v2/write) and
 * InfluxDB 1.x (`influxd`, v1 /write only). `stop()` then `start()` restarts a server on the
 * same port and data, for tests that take the server away mid-stream.
 */

export const VICTORIA_METRICS = findPeer('victoria-metrics', ['victoria-metrics', '/usr/bin/victoria-metrics']);
export const INFLUXD = findPeer('influxd', ['influxd', '/usr/bin/influxd']);

export interface TestServer {
  url: string;
  port: number;
  /** Start again after stop()/kill(), same port and data. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM): the server flushes what it acknowledged. */
  stop(): Promise<void>;
  kill(): Promise<void>;
  readonly running: boolean;
  log(): string;
}

interface ProcSpec {
  bin: string;
  args: string[];
  ready: () => Promise<boolean>;
  startTimeoutMs: number;
}

function managed(spec: ProcSpec, url: string, port: number): TestServer {
  let proc: ChildProcess | undefined;
  let out = '';
  const down = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      p.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      p.kill(signal);
    });
  };
  return {
    url,
    port,
    async start() {
      if (proc) return;
      const p = spawn(spec.bin, spec.args, { stdio: ['ignore', 'pipe', 'pipe'] });
      proc = p;
      const keep = (c: Buffer) => {
        out = (out + c.toString()).slice(-20_000);
      };
      p.stdout?.on('data', keep);
      p.stderr?.on('data', keep);
      await waitFor(async () => {
        if (p.exitCode !== null) throw new Error(`${spec.bin} exited (${p.exitCode}):\n${out}`);
        return spec.ready();
      }, spec.startTimeoutMs, 50);
    },
    stop: () => down('SIGTERM'),
    kill: () => down('SIGKILL'),
    get running() {
      return proc !== undefined;
    },
    log: () => out,
  };
}

async function httpOk(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export interface VictoriaMetrics extends TestServer {
  /** Make everything acknowledged so far visible to queries. */
  flush(): Promise<void>;
  /** Raw samples of every series matching a selector, via /api/v1/export. */
  exportSeries(match: string): Promise<ExportedSeries[]>;
}

/**
 * The part of a site's selector that leaves out what the KPI northbound export writes (`kpi`,
 * `kpi_alert` and `site` measurements; proven in test/integration/sinks/kpi-export.test.ts and
 * kpi/northbound.test.ts), so a test of the samples' log compares samples only.
 */
export const SAMPLES_ONLY = '__name__!~"(kpi|kpi_alert|site)_.+"';

export interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

/**
 * VictoriaMetrics with `-dedup.minScrapeInterval=1ms`: two writes of one series at one
 * millisecond count once, as in InfluxDB, so at-least-once delivery can be checked for
 * "nothing twice". Timestamps must lie within the retention (default 1 month back).
 */
export async function startVictoriaMetrics(dir: string): Promise<VictoriaMetrics> {
  if (!VICTORIA_METRICS) throw new Error('victoria-metrics is not installed');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = managed(
    {
      bin: VICTORIA_METRICS,
      args: [
        `-storageDataPath=${join(dir, 'vm-data')}`,
        `-httpListenAddr=127.0.0.1:${port}`,
        '-dedup.minScrapeInterval=1ms',
        '-search.latencyOffset=0s',
        '-search.disableCache',
        '-loggerLevel=ERROR',
      ],
      ready: () => httpOk(`${url}/health`),
      startTimeoutMs: 15_000,
    },
    url,
    port,
  );
  await server.start();
  return Object.assign(server, {
    async flush() {
      const res = await fetch(`${url}/internal/force_flush`);
      await res.arrayBuffer();
    },
    async exportSeries(match: string) {
      const res = await fetch(`${url}/api/v1/export`, {
        method: 'POST',
        body: new URLSearchParams({ 'match[]': match }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`export ${res.status}: ${text}`);
      return text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as ExportedSeries);
    },
  });
}

export interface Influxdb1 extends TestServer {
  query(db: string, q: string): Promise<InfluxSeries[]>;
  createDatabase(db: string): Promise<void>;
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** InfluxDB 1.x (Debian's influxd 1.6) with its own config: HTTP and RPC on free ports, no reporting. */
export async function startInfluxdb1(dir: string): Promise<Influxdb1> {
  if (!INFLUXD) throw new Error('influxd is not installed');
  const port = await freePort();
  const rpc = await freePort();
  const base = join(dir, 'influxdb1');
  mkdirSync(base, { recursive: true });
  const conf = join(base, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpc}"`,
      '[meta]',
      `  dir = "${join(base, 'meta')}"`,
      '[data]',
      `  dir = "${join(base, 'data')}"`,
      `  wal-dir = "${join(base, 'wal')}"`,
      '  query-log-enabled = false',
      '  wal-fsync-delay = "0s"',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[continuous_queries]',
      '  enabled = false',
      '[logging]',
      '  level = "error"',
      '',
    ].join('\n'),
  );
  const url = `http://127.0.0.1:${port}`;
  const server = managed(
    {
      bin: INFLUXD,
      args: ['-config', conf],
      ready: async () => {
        try {
          const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
          await res.arrayBuffer();
          return res.status === 204;
        } catch {
          return false;
        }
      },
      startTimeoutMs: 20_000,
    },
    url,
    port,
  );
  await server.start();
  const query = async (db: string, q: string): Promise<InfluxSeries[]> => {
    const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ db, q, epoch: 'ms' }) });
    const body = (await res.json()) as { results?: { series?: InfluxSeries[]; error?: string }[]; error?: string };
    if (!res.ok || body.error) throw new Error(`influxdb query ${res.status}: ${body.error ?? JSON.stringify(body)}`);
    const err = body.results?.find((r) => r.error)?.error;
    if (err) throw new Error(`influxdb query: ${err}`);
    return body.results?.flatMap((r) => r.series ?? []) ?? [];
  };
  return Object.assign(server, {
    query,
    async createDatabase(db: string) {
      await query('', `CREATE DATABASE "${db.replace(/"/g, '\\"')}"`);
    },
  });
}

/** Stop every server given, ignoring ones already stopped. */
export async function stopAll(...servers: (TestServer | undefined)[]): Promise<void> {
  await Promise.all(servers.map((s) => s?.stop()));
}
