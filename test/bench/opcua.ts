// Bench: OPC UA, 2,000 monitored items at 1 s. A node-opcua server process (200 heat pumps of the
// energy-station layout, 10 variables each, every value re-published once a second) is watched by
// two processes at the same time: the gateway (OPC UA driver → pipeline → SQLite) and, as the
// baseline, a bare node-opcua client with the same subscription that only counts notifications.
// Each reports its own CPU time and RSS over the same window; the gateway is given as a ratio of
// the bare client, since the machine is shared and noisy.
// Writes test/bench/results/opcua.json.
//   node --import tsx test/bench/opcua.ts      (BENCH_OPCUA_SECONDS=30, BENCH_OPCUA_DEVICES=200)
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Gateway } from '../../gateway/app.js';
import { parseConfig } from '../../gateway/config/load.js';
import { STATION_NAMESPACE, StationServer, type StationPoint } from '../../simulators/opcua/index.js';
import type { StationDevice } from '../../simulators/opcua/station.js';
import { freePort, tempDir } from '../helpers/peers.js';

const SECONDS = Number(process.env['BENCH_OPCUA_SECONDS'] ?? 30);
const WARMUP_S = 10;
const DEVICES = Number(process.env['BENCH_OPCUA_DEVICES'] ?? 200);
const NAMES = ['ElectricPower', 'ThermalPower', 'ElectricEnergy', 'ThermalEnergy', 'SupplyTemperature', 'ReturnTemperature', 'OutdoorTemperature', 'DhwTemperature', 'OperatingMode', 'SgReadyState'];

interface Report {
  role: string;
  notifications_per_s: number;
  cpu_percent: number;
  rss_mb: number;
  samples_per_s?: number;
}

/** Server mode: DEVICES heat pumps, every value new once a second. */
async function serve(port: number, pki: string): Promise<void> {
  let tick = 0;
  const devices: StationDevice[] = Array.from({ length: DEVICES }, (_, i) => ({
    id: `hp-${i + 1}`,
    folder: `HP${i + 1}`,
    kind: 'heat_pump' as const,
    points: (): StationPoint[] =>
      NAMES.map((name, k) => ({
        name,
        metric: name,
        type: k >= 8 ? ('UInt16' as const) : ('Double' as const),
        ...(k < 8 ? { unit: k < 2 ? 'kW' : k < 4 ? 'kWh' : '°C' } : {}),
        value: k === 8 ? [0, 1, 2, 5][(tick + i) % 4] ?? 0 : k === 9 ? 2 : k < 4 ? 1000 + tick * (k + 1) + i : 20 + ((tick + i + k) % 30),
      })),
  }));
  const server = new StationServer({ host: '127.0.0.1', port, pkiDir: pki, secureOnly: false, anonymous: true, users: {} }, devices);
  await server.start();
  setInterval(() => {
    tick++;
    server.publish(Date.now(), () => ({ code: 'Good' }));
  }, 1000);
  process.stdout.write('ready\n');
}

/** Measure this process over the window; `count` is what it has received so far. */
async function measure(role: string, count: () => number, samples?: () => number): Promise<Report> {
  await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
  const n0 = count();
  const s0 = samples?.() ?? 0;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let rss = 0;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 500);
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  clearInterval(sampler);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const out: Report = {
    role,
    notifications_per_s: Math.round((count() - n0) / wall),
    cpu_percent: Math.round(((cpu.user + cpu.system) / 1e6 / wall) * 1000) / 10,
    rss_mb: Math.round(rss / 1e5) / 10,
  };
  if (samples) out.samples_per_s = Math.round((samples() - s0) / wall);
  return out;
}

async function gateway(port: number, dir: string): Promise<Report> {
  const devices = Array.from({ length: DEVICES }, (_, i) => `  - { id: hp-${i + 1}, class: heat_pump, connection: station, profile: energy-station, options: { folder: HP${i + 1} } }`).join('\n');
  const config = parseConfig(
    `version: 1
site: { id: bench }
store: { path: ${join(dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0 }
logging: { level: warn }
connections: [{ id: station, protocol: opcua, endpoint: "opc.tcp://127.0.0.1:${port}", timeout: 10s }]
devices:
${devices}
`,
    'bench.yaml',
    {},
  );
  const gw = Gateway.create({ config, log: pino({ level: 'warn' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
  await gw.start();
  const notes = () => Number(gw.driverHealth().find((h) => h.protocol === 'opcua')?.counters?.['notifications'] ?? 0);
  const r = await measure('gateway', notes, () => gw.store.counts().samples);
  await gw.stop();
  return r;
}

async function bare(port: number, dir: string): Promise<Report> {
  const ua = await import('node-opcua');
  const cm = new ua.OPCUACertificateManager({ rootFolder: join(dir, 'bare-pki'), automaticallyAcceptUnknownCertificate: true });
  await cm.initialize();
  const client = ua.OPCUAClient.create({ endpointMustExist: false, clientCertificateManager: cm, connectionStrategy: { maxRetry: 10, initialDelay: 500, maxDelay: 2000 } });
  await client.connect(`opc.tcp://127.0.0.1:${port}`);
  const session = await client.createSession();
  const ns = (await session.readNamespaceArray()).indexOf(STATION_NAMESPACE);
  const sub = await session.createSubscription2({ requestedPublishingInterval: 1000, requestedMaxKeepAliveCount: 10, requestedLifetimeCount: 60, maxNotificationsPerPublish: 0, publishingEnabled: true });
  let n = 0;
  const ids = Array.from({ length: DEVICES }, (_, i) => NAMES.map((name) => `ns=${ns};s=EnergyStation.HP${i + 1}.${name}`)).flat();
  for (let i = 0; i < ids.length; i += 500) {
    const group = await sub.monitorItems(
      ids.slice(i, i + 500).map((nodeId) => ({ nodeId, attributeId: ua.AttributeIds.Value })),
      { samplingInterval: 0, queueSize: 200, discardOldest: true, filter: new ua.DataChangeFilter({ trigger: ua.DataChangeTrigger.StatusValueTimestamp, deadbandType: ua.DeadbandType.None }) },
      ua.TimestampsToReturn.Both,
    );
    group.on('changed', () => n++);
  }
  const r = await measure('bare node-opcua client', () => n);
  await session.close();
  await client.disconnect();
  return r;
}

function child(args: string[]): { proc: ChildProcess; report: Promise<Report | 'ready'> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  const report = new Promise<Report | 'ready'>((resolve, reject) => {
    proc.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready\n')) resolve('ready');
      const m = /^REPORT (.*)$/m.exec(out);
      if (m) resolve(JSON.parse(m[1] as string) as Report);
    });
    proc.on('exit', (code) => reject(new Error(`${args[0]} exited ${code}: ${out.slice(-500)}`)));
  });
  return { proc, report };
}

async function orchestrate(): Promise<void> {
  const t = tempDir('fcgw-bench-opcua-');
  const port = await freePort();
  const server = child(['server', String(port), join(t.dir, 'server-pki')]);
  try {
    await server.report;
    const g = child(['gateway', String(port), t.dir]);
    const b = child(['bare', String(port), t.dir]);
    const [gw, base] = (await Promise.all([g.report, b.report])) as [Report, Report];
    const result = {
      bench: 'opcua',
      node: process.version,
      at: new Date().toISOString(),
      items: DEVICES * NAMES.length,
      publishing_interval_ms: 1000,
      seconds: SECONDS,
      gateway: gw,
      bare_client: base,
      cpu_ratio: Math.round((gw.cpu_percent / Math.max(0.1, base.cpu_percent)) * 100) / 100,
      rss_ratio: Math.round((gw.rss_mb / base.rss_mb) * 100) / 100,
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'opcua.json'), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    server.proc.kill('SIGTERM');
    t.cleanup();
  }
}

const [mode, portArg, dirArg] = process.argv.slice(2);
if (mode === 'server') await serve(Number(portArg), dirArg as string);
else if (mode === 'gateway' || mode === 'bare') {
  const r = await (mode === 'gateway' ? gateway : bare)(Number(portArg), dirArg as string);
  process.stdout.write(`REPORT ${JSON.stringify(r)}\n`);
  process.exit(0);
} else await orchestrate();
