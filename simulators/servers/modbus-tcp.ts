import Modbus from 'modbus-serial';
import type { Server as NetServer, Socket } from 'node:net';
import type { ModbusFunction } from '../../drivers/modbus/profile-schema.js';
import { DelayedAnswers, type Answer, type SimUnits } from './modbus-units.js';

const { ServerTCP } = Modbus;
type Server = InstanceType<typeof ServerTCP>;
type Cb<T> = (err: unknown, value?: T) => void;

export interface ModbusServerOptions {
  host?: string;
  port: number;
}

/**
 * A Modbus TCP endpoint (modbus-serial's ServerTCP) serving every unit id of `units`. Faults
 * come from the units: exceptions, no answer, slow answers, a dropped connection.
 */
export class ModbusTcpSimServer {
  private server: Server | undefined;
  private readonly delayed = new DelayedAnswers();
  /** TCP connections accepted since start: a gateway that keeps its link open adds one, once. */
  accepted = 0;

  constructor(
    readonly units: SimUnits,
    private readonly opts: ModbusServerOptions,
  ) {}

  get port(): number {
    return this.opts.port;
  }

  async start(): Promise<void> {
    if (this.server) return;
    // modbus-serial's FC4 handler reads `values[i]` even on an error, and a TypeError there turns
    // every exception into 4 (device failure): an error comes with a dummy array of the right length.
    const regs = (fn: ModbusFunction) => (addr: number, len: number, unit: number, cb: Cb<number[]>) =>
      this.answer(this.units.read(unit, fn, addr, len, 'exception'), (err, w) => cb(err, err ? new Array<number>(len).fill(0) : w));
    const one = (fn: ModbusFunction) => (addr: number, unit: number, cb: Cb<number>) =>
      this.answer(this.units.read(unit, fn, addr, 1, 'exception'), (err, w) => cb(err, w?.[0]));
    const bit = (fn: ModbusFunction) => (addr: number, unit: number, cb: Cb<boolean>) =>
      this.answer(this.units.read(unit, fn, addr, 1, 'exception'), (err, w) => cb(err, (w?.[0] ?? 0) !== 0));
    const vector = {
      getMultipleHoldingRegisters: regs('holding'),
      getMultipleInputRegisters: regs('input'),
      getHoldingRegister: one('holding'),
      getInputRegister: one('input'),
      getCoil: bit('coil'),
      getDiscreteInput: bit('discrete'),
      setRegister: (addr: number, value: number, unit: number, cb: Cb<void>) => this.answer(this.units.write(unit, 'holding', addr, [value]), (err) => cb(err)),
      setCoil: (addr: number, value: boolean, unit: number, cb: Cb<void>) => this.answer(this.units.write(unit, 'coil', addr, [value ? 1 : 0]), (err) => cb(err)),
    };
    const server = new ServerTCP(vector as never, { host: this.opts.host ?? '127.0.0.1', port: this.opts.port, unitID: 255 });
    // Socket errors (a client that vanished) must not crash the simulator.
    server.on('socketError', () => undefined);
    server.on('error', () => undefined);
    (server as unknown as { _server: NetServer })._server.on('connection', () => this.accepted++);
    await new Promise<void>((resolve, reject) => {
      server.once('initialized', () => resolve());
      server.once('serverError', (err: Error) => reject(err));
    });
    this.server = server;
  }

  async stop(): Promise<void> {
    this.delayed.cancelAll();
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    for (const sock of s.socks.keys()) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Drop every client connection (fault: disconnect). */
  dropClients(): void {
    for (const sock of this.server?.socks.keys() ?? []) (sock as Socket).destroy();
  }

  private answer(a: Answer, cb: Cb<number[]>): void {
    if (a.kind === 'none') return;
    if (a.kind === 'disconnect') {
      this.dropClients();
      return;
    }
    this.delayed.run(a.delay, () => (a.kind === 'words' ? cb(null, a.words) : cb({ modbusErrorCode: a.code, msg: `exception ${a.code}` })));
  }
}
