import { createServer, type Server, type Socket } from 'node:net';
import type { ModbusFunction } from '../../drivers/modbus/profile-schema.js';
import type { ModbusServerOptions } from './modbus-tcp.js';
import { DelayedAnswers, type Answer, type SimUnits } from './modbus-units.js';

/** Modbus CRC-16 (poly 0xA001, init 0xFFFF), transmitted low byte first. */
export function crc16(buf: Uint8Array): number {
  let crc = 0xffff;
  for (const b of buf) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function withCrc(body: Buffer): Buffer {
  const out = Buffer.alloc(body.length + 2);
  body.copy(out);
  out.writeUInt16LE(crc16(body), body.length);
  return out;
}

const READ_FN: Record<number, ModbusFunction> = { 1: 'coil', 2: 'discrete', 3: 'holding', 4: 'input' };
/** Bytes a request of this function code occupies (incl. CRC), or undefined until more bytes arrive. */
function requestLength(buf: Buffer): number | undefined {
  const fc = buf[1];
  if (fc === undefined) return undefined;
  if (fc >= 1 && fc <= 6) return 8;
  if (fc === 15 || fc === 16) return buf.length >= 7 ? 9 + (buf[6] ?? 0) : undefined;
  return -1;
}

/**
 * An RS-485-to-TCP gateway as many are sold: raw RTU frames (unit, PDU, CRC) over a TCP socket,
 * one request at a time like the bus behind it. A unit that does not exist (or is told not to
 * answer) stays silent, as on a real line; a bad CRC is ignored as a real slave would.
 */
export class ModbusRtuTcpSimServer {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly delayed = new DelayedAnswers();

  constructor(
    readonly units: SimUnits,
    private readonly opts: ModbusServerOptions,
  ) {}

  get port(): number {
    return this.opts.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((sock) => this.serve(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    server.on('error', () => undefined);
    this.server = server;
  }

  async stop(): Promise<void> {
    this.delayed.cancelAll();
    const s = this.server;
    this.server = undefined;
    this.dropClients();
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  dropClients(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
  }

  private serve(sock: Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    let busy = false;
    const drain = () => {
      while (!busy && buf.length >= 4) {
        const len = requestLength(buf);
        if (len === undefined || buf.length < len) return;
        if (len < 0) {
          // Unknown function code: resynchronise by dropping a byte (line noise).
          buf = buf.subarray(1);
          continue;
        }
        const frame = buf.subarray(0, len);
        buf = buf.subarray(len);
        if (crc16(frame.subarray(0, len - 2)) !== frame.readUInt16LE(len - 2)) continue;
        busy = true;
        this.handle(sock, frame, () => {
          busy = false;
          drain();
        });
      }
    };
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > 1024) buf = buf.subarray(buf.length - 1024);
      drain();
    });
  }

  private handle(sock: Socket, frame: Buffer, done: () => void): void {
    const unit = frame[0] ?? 0;
    const fc = frame[1] ?? 0;
    const address = frame.readUInt16BE(2);
    let answer: Answer;
    if (READ_FN[fc]) answer = this.units.read(unit, READ_FN[fc], address, frame.readUInt16BE(4), 'none');
    else if (fc === 5) answer = this.units.write(unit, 'coil', address, [frame.readUInt16BE(4) === 0xff00 ? 1 : 0]);
    else if (fc === 6) answer = this.units.write(unit, 'holding', address, [frame.readUInt16BE(4)]);
    else if (fc === 16) {
      const n = frame.readUInt16BE(4);
      answer = this.units.write(unit, 'holding', address, Array.from({ length: n }, (_, i) => frame.readUInt16BE(7 + 2 * i)));
    } else answer = { kind: 'exception', code: 1, delay: 0 };
    if (answer.kind === 'none') return done();
    if (answer.kind === 'disconnect') {
      this.dropClients();
      return done();
    }
    const reply = this.reply(unit, fc, frame, answer);
    this.delayed.run(answer.delay, () => {
      if (!sock.destroyed) sock.write(reply);
      done();
    });
  }

  private reply(unit: number, fc: number, req: Buffer, a: Extract<Answer, { delay: number }>): Buffer {
    if (a.kind === 'exception') return withCrc(Buffer.from([unit, fc | 0x80, a.code]));
    if (fc === 1 || fc === 2) {
      const bytes = Math.ceil(a.words.length / 8);
      const body = Buffer.alloc(3 + bytes);
      body[0] = unit;
      body[1] = fc;
      body[2] = bytes;
      a.words.forEach((b, i) => {
        if (b) body[3 + (i >> 3)] = (body[3 + (i >> 3)] ?? 0) | (1 << (i & 7));
      });
      return withCrc(body);
    }
    if (fc === 3 || fc === 4) {
      const body = Buffer.alloc(3 + 2 * a.words.length);
      body[0] = unit;
      body[1] = fc;
      body[2] = 2 * a.words.length;
      a.words.forEach((w, i) => body.writeUInt16BE(w & 0xffff, 3 + 2 * i));
      return withCrc(body);
    }
    // Writes echo address and value/quantity.
    return withCrc(Buffer.from(req.subarray(0, 6)));
  }
}
