// Bench: DL/T 645 and CJ/T 188 buses at 2400 baud. A bus of 30 meters behind a simulated
// serial-device server that spends each byte's wire time (11 bits at the bus's baud, 8E1), polled
// by the real bus driver with every meter due each second, so the bus is saturated. Reports the
// polls answered per second against the bus's theoretical limit (baud / 11 / bytes on the wire
// per exchange, request and answer with their wake-up bytes), as a ratio: what the driver loses
// to its gaps, timers and scheduling.
// Writes test/bench/results/meters.json.   node --import tsx test/bench/meters.ts  (BENCH_METERS_SECONDS=20)
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { systemClock } from '../../gateway/model/clock.js';
import { encodeBcd } from '../../drivers/core/bcd.js';
import { BusLink } from '../../drivers/core/bus-link.js';
import type { DriverContext } from '../../drivers/core/driver.js';
import { MeterBusDriver, type MeterDevice } from '../../drivers/core/meter-bus-driver.js';
import { Cjt188Device } from '../../drivers/cjt188/device.js';
import { readRequest as cjtRequest } from '../../drivers/cjt188/frame.js';
import { cjt188ProfileSchema } from '../../drivers/cjt188/profile-schema.js';
import { Dlt645Device } from '../../drivers/dlt645/device.js';
import { readRequest as dltRequest } from '../../drivers/dlt645/frame.js';
import { dlt645ProfileSchema } from '../../drivers/dlt645/profile-schema.js';
import { startMeterBus, type MeterBusSpec } from '../../simulators/servers/meter-bus.js';

const SECONDS = Number(process.env['BENCH_METERS_SECONDS'] ?? 20);
const BAUD = 2400;
const METERS = 30;
const WAKE_REQ = 4;
const WAKE_REPLY = 2;

interface BusResult {
  protocol: string;
  meters: number;
  baud: number;
  bytes_per_exchange: number;
  theoretical_polls_per_s: number;
  polls_per_s: number;
  ratio: number;
  timeouts: number;
}

async function run(protocol: 'dlt645' | 'cjt188'): Promise<BusResult> {
  const log = pino({ level: 'silent' });
  let answered = 0;
  const ctx: DriverContext = {
    site: 'bench',
    clock: systemClock,
    log,
    dataDir: '/tmp',
    ingest: async () => undefined,
    reject: () => undefined,
    metrics: { pollLatency: () => void answered++, linkError: () => undefined, messages: () => undefined },
  };
  const q = (v: number) => Buffer.concat([encodeBcd(v, 4, { decimals: 2 }), Buffer.from([0x2c])]);
  const addr = (i: number) => (protocol === 'dlt645' ? `1100000000${String(i).padStart(2, '0')}` : `110000000000${String(i).padStart(2, '0')}`);
  const spec: MeterBusSpec =
    protocol === 'dlt645'
      ? { protocol, meters: Array.from({ length: METERS }, (_, i) => ({ address: addr(i), edition: '2007' as const, read: () => 1.2345 })) }
      : { protocol, meters: Array.from({ length: METERS }, (_, i) => ({ address: addr(i), type: 0x10, body: () => Buffer.concat([q(i), q(i), Buffer.from('00301203122620', 'hex'), Buffer.from([0, 0])]) })) };
  const server = await startMeterBus(spec, { baud: BAUD, faults: { wakeUp: WAKE_REPLY } });
  const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port: server.port }, { gapMs: 0, reconnectMinMs: 100, reconnectMaxMs: 1000, connectTimeoutMs: 1000 }, log);
  let devices: MeterDevice[];
  let requestBytes: number;
  let replyBytes: number;
  if (protocol === 'dlt645') {
    const p = dlt645ProfileSchema.parse({ id: 'bench', description: 'power only', classes: ['grid_meter'], protocol: 'dlt645', points: [{ metric: 'power', di: '02030000' }] });
    devices = Array.from({ length: METERS }, (_, i) => new Dlt645Device({ id: `m${i}`, address: addr(i), poll: 1000, options: {} }, p));
    requestBytes = dltRequest(addr(0), '02030000', '2007', WAKE_REQ).length;
    replyBytes = 12 + 4 + 3 + WAKE_REPLY;
  } else {
    const p = cjt188ProfileSchema.parse({ id: 'bench', description: 'water', classes: ['water_meter'], protocol: 'cjt188', meter_type: 'cold_water', points: [{ metric: 'volume_total', field: 'volume_total' }] });
    devices = Array.from({ length: METERS }, (_, i) => new Cjt188Device({ id: `m${i}`, address: addr(i), poll: 1000 }, p));
    requestBytes = cjtRequest({ type: 0x10, address: addr(0), wakeUp: WAKE_REQ }).length;
    replyBytes = 13 + 22 + WAKE_REPLY;
  }
  const driver = new MeterBusDriver(`bus-${protocol}`, protocol, link, devices, { timeoutMs: 2000, retries: 0, quarantineMinMs: 1000, quarantineMaxMs: 5000 }, ctx);
  await driver.start();
  await new Promise((r) => setTimeout(r, 3000));
  const a0 = answered;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, SECONDS * 1000));
  const rate = (answered - a0) / ((performance.now() - t0) / 1000);
  const timeouts = link.counters.timeouts;
  await driver.stop();
  await server.close();
  const bytes = requestBytes + replyBytes;
  const theoretical = BAUD / 11 / bytes;
  return { protocol, meters: METERS, baud: BAUD, bytes_per_exchange: bytes, theoretical_polls_per_s: round(theoretical), polls_per_s: round(rate), ratio: round(rate / theoretical), timeouts };
}

const round = (v: number) => Math.round(v * 1000) / 1000;

const dlt645 = await run('dlt645');
const cjt188 = await run('cjt188');
const result = { bench: 'meters', node: process.version, at: new Date().toISOString(), seconds: SECONDS, dlt645, cjt188 };
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
writeFileSync(join(import.meta.dirname, 'results', 'meters.json'), `${JSON.stringify(result, null, 2)}\n`);
console.log(`DL/T 645: ${dlt645.polls_per_s} polls/s of ${dlt645.theoretical_polls_per_s} possible at ${BAUD} baud (${dlt645.ratio}×)`);
console.log(`CJ/T 188: ${cjt188.polls_per_s} polls/s of ${cjt188.theoretical_polls_per_s} possible at ${BAUD} baud (${cjt188.ratio}×)`);
