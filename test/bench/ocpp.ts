// Bench: OCPP 1.6-J MeterValues through the gateway. 40 charge points (bare `ws`, one call in
// flight each, as OCPP allows) send MeterValues as fast as they are answered; each answer waits
// for the SQLite commit (the driver answers only what is stored). Against the same charge points
// answered by a bare ocpp-rpc server in strict mode (the RPC library alone, nothing stored), as a
// ratio in one run: what the driver, pipeline and store cost per call.
// Writes test/bench/results/ocpp.json.   node --import tsx test/bench/ocpp.ts  (BENCH_OCPP_SECONDS=10)
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { RPCServer } from 'ocpp-rpc';
import pino from 'pino';
import WebSocket from 'ws';
import { Gateway } from '../../gateway/app.js';
import { parseConfig } from '../../gateway/config/load.js';
import type { OcppDriver } from '../../drivers/ocpp/driver.js';

const SECONDS = Number(process.env['BENCH_OCPP_SECONDS'] ?? 10);
const CHARGERS = 40;

/** Run the charge points against `url` for SECONDS; calls answered per second. */
async function drive(url: string): Promise<number> {
  let answered = 0;
  let stop = false;
  const run = async (i: number) => {
    const ws = new WebSocket(`${url}/${String(i + 1).padStart(3, '0')}`, ['ocpp1.6']);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    let n = 0;
    let wh = 1_000_000;
    const waiting = new Map<string, () => void>();
    ws.on('message', (d: Buffer) => {
      const f = JSON.parse(d.toString()) as unknown[];
      waiting.get(f[1] as string)?.();
    });
    const call = (action: string, payload: unknown) =>
      new Promise<void>((r) => {
        const id = String(++n);
        waiting.set(id, () => (waiting.delete(id), r()));
        ws.send(JSON.stringify([2, id, action, payload]));
      });
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging' });
    const t0 = Date.now() - 3_600_000;
    while (!stop) {
      wh += 10;
      const timestamp = new Date(t0 + n * 1000).toISOString();
      await call('MeterValues', { connectorId: 1, meterValue: [{ timestamp, sampledValue: [{ value: String(wh), unit: 'Wh' }, { value: '7200', measurand: 'Power.Active.Import', unit: 'W' }] }] });
      answered++;
    }
    ws.close();
  };
  const all = Array.from({ length: CHARGERS }, (_, i) => run(i));
  await new Promise((r) => setTimeout(r, 1000)); // warm-up
  const from = answered;
  const t = Date.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rate = ((answered - from) * 1000) / (Date.now() - t);
  stop = true;
  await Promise.all(all);
  return rate;
}

async function bare(): Promise<number> {
  const rpc = new RPCServer({ protocols: ['ocpp1.6'], strictMode: true });
  rpc.on('client', (c: { handle: (m: string, h: () => Promise<object>) => void }) => {
    c.handle('StatusNotification', async () => ({}));
    c.handle('MeterValues', async () => ({}));
  });
  const server = await rpc.listen(0, '127.0.0.1');
  const rate = await drive(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/ocpp`);
  await rpc.close({ force: true });
  return rate;
}

async function gateway(): Promise<{ rate: number; samples: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'fcgw-bench-ocpp-'));
  const config = parseConfig(
    `version: 1
site: { id: bench }
store: { path: ${join(dir, 'gw.db')} }
logging: { level: warn }
api: { host: 127.0.0.1, port: 0 }
connections: [{ id: chargers, protocol: ocpp, host: 127.0.0.1, port: 0, security_profile: 0 }]
discover: [{ connection: chargers, profile: ocpp16-charger, class: ev_charger, id: "ev-{chargePointId}" }]
`,
    'bench.yaml',
    {},
  );
  const gw = Gateway.create({ config, log: pino({ level: 'warn' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
  await gw.start();
  const port = (gw.driver('chargers') as OcppDriver).address()?.port;
  const rate = await drive(`ws://127.0.0.1:${port}/ocpp`);
  const samples = gw.store.counts().samples;
  await gw.stop();
  rmSync(dir, { recursive: true, force: true });
  return { rate, samples };
}

const libraryOnly = await bare();
const through = await gateway();
const result = {
  bench: 'ocpp',
  node: process.version,
  at: new Date().toISOString(),
  charge_points: CHARGERS,
  seconds: SECONDS,
  calls_per_s_gateway: Math.round(through.rate),
  calls_per_s_rpc_library_only: Math.round(libraryOnly),
  ratio: Number((through.rate / libraryOnly).toFixed(3)),
  samples_stored: through.samples,
};
console.log(JSON.stringify(result, null, 2));
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'ocpp.json'), `${JSON.stringify(result, null, 2)}\n`);
