import net from 'node:net';
import { encodeBcd } from '../../drivers/core/bcd.js';
import { buildFrame, type ScanResult } from '../../drivers/core/meter-frame.js';
import * as cjt from '../../drivers/cjt188/frame.js';
import * as dlt from '../../drivers/dlt645/frame.js';
import { CONTROL_WRITE, DI_VALVE, VALVE_CODES } from '../../drivers/cjt188/control.js';
import { CONTROL_RELAY, parseRelayData, RELAY_OPEN_BIT, STATUS_WORD_3 } from '../../drivers/dlt645/control.js';
import { IDENTIFIERS_1997, IDENTIFIERS_2007 } from '../../drivers/dlt645/identifiers.js';

/**
 * A serial-device server in transparent TCP mode with a bus of simulated meters behind it: the
 * bus's bytes on one socket, one master, meters that answer only their own address (or the
 * wildcard when alone on the bus). Optional wire time at the bus's baud rate (11 bits a byte,
 * 8E1), so throughput is bounded as on a real RS-485 line. Faults: a silent meter, a bad check
 * byte, an error reply.
 */
export interface Dlt645MeterSim {
  address: string;
  edition: dlt.Edition;
  /** The value of each identifier it serves, in the identifier's unit (kWh, kW, V…). */
  read(di: string): number | undefined;
  /**
   * A load relay under remote control (C = 0x1C), shown in status word 3 (bit 4 open). `ignore`:
   * the meter answers 0x9C and does not switch (a welded relay). Without it, control is refused.
   */
  relay?: { open: boolean; password: string; ignore?: boolean; operations: number };
}

export interface Cjt188MeterSim {
  address: string;
  type: number;
  /** The reply body after DI and SER (see drivers/cjt188/bodies.ts for the layouts). */
  body(): Buffer;
  /** A remotely controlled valve (C = 0x04, DI A017), shown in ST; `ignore`: answers 0x84 and stays (a seized valve). */
  valve?: { closed: boolean; ignore?: boolean; operations: number };
}

export interface MeterFaults {
  /** Addresses that never answer. */
  silent?: ReadonlySet<string>;
  /** Addresses whose answers carry a wrong check byte. */
  badChecksum?: ReadonlySet<string>;
  /** Wake-up bytes before each answer. */
  wakeUp?: number;
}

export type MeterBusSpec =
  | { protocol: 'dlt645'; meters: Dlt645MeterSim[] }
  | { protocol: 'cjt188'; meters: Cjt188MeterSim[] };

export interface MeterBusServer {
  readonly port: number;
  readonly stats: { requests: number; answers: number; silent: number; errors: number };
  /** Faults can change while it runs (a meter that dies mid-test). */
  faults: MeterFaults;
  close(): Promise<void>;
}

export async function startMeterBus(spec: MeterBusSpec, opts: { host?: string; port?: number; baud?: number; faults?: MeterFaults } = {}): Promise<MeterBusServer> {
  const stats = { requests: 0, answers: 0, silent: 0, errors: 0 };
  const sockets = new Set<net.Socket>();
  const byteMs = opts.baud ? (11 * 1000) / opts.baud : 0;
  const server: MeterBusServer = { port: 0, stats, faults: opts.faults ?? {}, close: async () => undefined };

  const answer = (frame: Buffer): Buffer | undefined => {
    stats.requests++;
    const reply = spec.protocol === 'dlt645' ? answerDlt(spec.meters, frame, server.faults) : answerCjt(spec.meters, frame, server.faults);
    if (reply === undefined) stats.silent++;
    else stats.answers++;
    return reply;
  };

  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.setNoDelay(true);
    let rx: Buffer = Buffer.alloc(0);
    let busyUntil = 0;
    socket.on('data', (d) => {
      rx = Buffer.concat([rx, d]);
      for (;;) {
        const r: ScanResult = spec.protocol === 'dlt645' ? dlt.scan(rx) : cjt.scan(rx);
        if (r.kind === 'incomplete') {
          rx = rx.subarray(r.start);
          return;
        }
        // Every byte up to the frame's end crossed the wire (wake-up bytes too).
        const requestBytes = r.end;
        rx = rx.subarray(r.end);
        if (r.kind === 'error') {
          stats.errors++;
          continue;
        }
        const reply = answer(r.frame);
        if (!reply) continue;
        // The request's own time on the wire, then the answer's: a half-duplex line at `baud`.
        const out = Buffer.concat([Buffer.alloc(server.faults.wakeUp ?? 0, 0xfe), reply]);
        const now = performance.now();
        const start = Math.max(now, busyUntil) + requestBytes * byteMs;
        busyUntil = start + out.length * byteMs;
        if (busyUntil - now < 1) socket.write(out);
        else setTimeout(() => socket.writable && socket.write(out), busyUntil - now);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  (server as { port: number }).port = (tcp.address() as net.AddressInfo).port;
  server.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => tcp.close(() => resolve()));
  };
  return server;
}

function corrupt(reply: Buffer, faults: MeterFaults, address: string): Buffer {
  if (!faults.badChecksum?.has(address)) return reply;
  const copy = Buffer.from(reply);
  copy[copy.length - 2] = ((copy[copy.length - 2] as number) + 1) & 0xff;
  return copy;
}

function answerDlt(meters: Dlt645MeterSim[], frame: Buffer, faults: MeterFaults): Buffer | undefined {
  const p = dlt.parseFrame(frame);
  const fn = p.control & 0x1f;
  if ((p.control & 0x80) !== 0) return undefined;
  const targets = meters.filter((m) => dlt.addressMatches(p.address, m.address));
  // On a real bus several meters answering a wildcard collide; only a lone meter answers it.
  if (targets.length !== 1) return undefined;
  const m = targets[0] as Dlt645MeterSim;
  if (faults.silent?.has(m.address)) return undefined;
  const header = (control: number) => Buffer.concat([Buffer.from([0x68]), Buffer.from(m.address, 'hex').reverse(), Buffer.from([0x68, control])]);
  const offset = (b: Buffer) => Buffer.from(Array.from(b, (x) => (x + 0x33) & 0xff));
  if (fn === dlt.CONTROL['2007'].readAddress && p.data.length === 0) {
    return corrupt(buildFrame(header(0x93), offset(Buffer.from(m.address, 'hex').reverse())), faults, m.address);
  }
  if (fn === CONTROL_RELAY) return corrupt(control(m, p.data, header), faults, m.address);
  const edition: dlt.Edition = fn === dlt.CONTROL['2007'].read ? '2007' : fn === dlt.CONTROL['1997'].read ? '1997' : m.edition;
  const diLen = edition === '2007' ? 4 : 2;
  const di = Buffer.from(p.data.subarray(0, diLen)).reverse().toString('hex').toUpperCase();
  if (di === STATUS_WORD_3 && edition === '2007' && m.relay) {
    const word = m.relay.open ? RELAY_OPEN_BIT : 0;
    return corrupt(buildFrame(header(0x91), offset(Buffer.concat([p.data.subarray(0, 4), Buffer.from([word & 0xff, word >> 8])]))), faults, m.address);
  }
  const format = (edition === '2007' ? IDENTIFIERS_2007 : IDENTIFIERS_1997)[di];
  const value = edition === m.edition && format ? m.read(di) : undefined;
  if (value === undefined || !format) {
    const errControl = edition === '2007' ? 0xd1 : 0xc1;
    return corrupt(buildFrame(header(errControl), offset(Buffer.from([0x02]))), faults, m.address);
  }
  const data = Buffer.concat([p.data.subarray(0, diLen), encodeBcd(value, format.bytes, format)]);
  return corrupt(buildFrame(header(0x80 | fn), offset(data)), faults, m.address);
}

function answerCjt(meters: Cjt188MeterSim[], frame: Buffer, faults: MeterFaults): Buffer | undefined {
  const p = cjt.parseFrame(frame);
  if ((p.control & 0x80) !== 0) return undefined;
  const targets = meters.filter((m) => [...p.address].every((c, i) => c === 'A' || c === m.address[i]) && (p.type === 0xaa || p.type === m.type));
  if (targets.length !== 1) return undefined;
  const m = targets[0] as Cjt188MeterSim;
  if (faults.silent?.has(m.address)) return undefined;
  const header = (control: number) => Buffer.concat([Buffer.from([0x68, m.type]), Buffer.from(m.address, 'hex').reverse(), Buffer.from([control])]);
  const di = p.data.subarray(0, 2);
  if ((p.control & 0x3f) === CONTROL_WRITE) return corrupt(valve(m, p.data, header), faults, m.address);
  const isMetering = di.equals(Buffer.from([0x90, 0x1f])) || di.equals(Buffer.from([0x1f, 0x90]));
  if (!isMetering) return corrupt(buildFrame(header(0xc1), Buffer.concat([di, p.data.subarray(2, 3), Buffer.from([0x00, 0x00])])), faults, m.address);
  const body = Buffer.from(m.body());
  // ST is the body's last two bytes: valve bits 0–1 (00 open, 01 closed).
  if (m.valve && body.length >= 2) body[body.length - 2] = ((body[body.length - 2] as number) & ~0x03) | (m.valve.closed ? 0x01 : 0x00);
  return corrupt(buildFrame(header(0x81), Buffer.concat([p.data.subarray(0, 3), body])), faults, m.address);
}

/** A remote-control frame: 0x9C done, 0xDC with 04 (wrong password) or 01 (no relay, a bad command). */
function control(m: Dlt645MeterSim, data: Buffer, header: (control: number) => Buffer): Buffer {
  const offset = (b: Buffer) => Buffer.from(Array.from(b, (x) => (x + 0x33) & 0xff));
  const req = parseRelayData(data);
  const refuse = (code: number) => buildFrame(header(0xdc), offset(Buffer.from([code])));
  if (!m.relay || !req?.action) return refuse(0x01);
  if (req.password !== m.relay.password) return refuse(0x04);
  if (!m.relay.ignore) {
    const open = req.action === 'trip';
    if (open !== m.relay.open) m.relay.operations++;
    m.relay.open = open;
  }
  return buildFrame(header(0x9c), Buffer.alloc(0));
}

/** A valve-control frame: 0x84 with DI, SER and ST; 0xC4 when the meter has no valve or the code is neither 55H nor 99H. */
function valve(m: Cjt188MeterSim, data: Buffer, header: (control: number) => Buffer): Buffer {
  const di = data.subarray(0, 2);
  const isValve = di.equals(Buffer.from([DI_VALVE >> 8, DI_VALVE & 0xff])) || di.equals(Buffer.from([DI_VALVE & 0xff, DI_VALVE >> 8]));
  const code = data[3];
  if (!m.valve || !isValve || (code !== VALVE_CODES.open && code !== VALVE_CODES.close)) return buildFrame(header(0xc4), Buffer.concat([di, data.subarray(2, 3), Buffer.from([0x00, 0x00])]));
  if (!m.valve.ignore) {
    const closed = code === VALVE_CODES.close;
    if (closed !== m.valve.closed) m.valve.operations++;
    m.valve.closed = closed;
  }
  return buildFrame(header(0x84), Buffer.concat([di, data.subarray(2, 3), Buffer.from([m.valve.closed ? 0x01 : 0x00, 0x00])]));
}
