import type Modbus from 'modbus-serial';
import type { ModbusConnection } from './connection-schema.js';
import type { ModbusFunction } from './profile-schema.js';

// modbus-serial is CommonJS; its class is module.exports, which also sets `.default` to itself.
// It loads with the first open, so a gateway without Modbus never pays for it (drivers/README.md).
type ModbusRTU = InstanceType<typeof Modbus.default>;

export type { ModbusConnection } from './connection-schema.js';

/** Why an exchange failed, in the words the quarantine and the metrics use. */
export type FailureKind = 'timeout' | 'exception' | 'disconnect' | 'bad_frame';

export class ModbusError extends Error {
  constructor(
    readonly code: 'MODBUS_TIMEOUT' | 'MODBUS_EXCEPTION' | 'MODBUS_DISCONNECTED' | 'MODBUS_BAD_FRAME' | 'MODBUS_CONFIG_INVALID' | 'MODBUS_STOPPED',
    message: string,
    /** Modbus exception code (1 illegal function, 2 illegal address, 4 device failure, 6 busy, 10/11 gateway). */
    readonly exception?: number,
  ) {
    super(message);
  }
  get kind(): FailureKind {
    if (this.code === 'MODBUS_TIMEOUT') return 'timeout';
    if (this.code === 'MODBUS_EXCEPTION') return 'exception';
    if (this.code === 'MODBUS_BAD_FRAME') return 'bad_frame';
    return 'disconnect';
  }
}

/** The one physical connection of a link (a TCP socket, an RTU-over-TCP socket or a serial port). */
export class Transport {
  private client: ModbusRTU | undefined;
  private closedListener: (() => void) | undefined;
  /** Requests in flight: a lost connection fails them at once (modbus-serial would let them time out). */
  private readonly inflight = new Set<(err: ModbusError) => void>();

  constructor(
    private readonly conn: ModbusConnection,
    private readonly onClose: () => void,
  ) {}

  get isOpen(): boolean {
    return this.client?.isOpen === true;
  }

  async open(): Promise<void> {
    await this.close();
    const { default: ModbusRTU } = (await import('modbus-serial')).default;
    const client = new ModbusRTU();
    // Errors surface as close/timeouts; without a listener an 'error' event (a serial port's,
    // even during a failed connect) would crash the process.
    client.on('error', () => undefined);
    const c = this.conn;
    const connect = async () => {
      if (c.protocol === 'modbus-tcp') await client.connectTCP(c.host, { port: c.port });
      else if (c.protocol === 'modbus-rtu-over-tcp') await client.connectTelnet(c.host, { port: c.port });
      else
        await client.connectRTUBuffered(c.path, {
          baudRate: c.baud,
          parity: c.parity,
          dataBits: c.data_bits,
          stopBits: c.stop_bits,
        });
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new ModbusError('MODBUS_TIMEOUT', `connect to ${describe(c)} timed out`)), Math.max(c.timeout, 1000));
        }),
      ]);
    } catch (err) {
      closeQuietly(client);
      throw err instanceof ModbusError ? err : new ModbusError('MODBUS_DISCONNECTED', `cannot open ${describe(c)}: ${(err as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    client.setTimeout(c.timeout);
    this.closedListener = () => {
      if (this.client === client) {
        this.client = undefined;
        this.abortInflight();
        this.onClose();
      }
    };
    client.on('close', this.closedListener);
    this.client = client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.closedListener) (client as unknown as NodeJS.EventEmitter).removeListener('close', this.closedListener);
    this.abortInflight();
    closeQuietly(client);
  }

  private abortInflight(): void {
    const err = new ModbusError('MODBUS_DISCONNECTED', 'connection lost during the request');
    for (const abort of this.inflight) abort(err);
    this.inflight.clear();
  }

  /** Settle with the request, or fail at once when the connection goes away under it. */
  private tracked<T>(request: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.inflight.add(reject);
      request.then(resolve, reject).finally(() => this.inflight.delete(reject));
    });
  }

  /** One read; words (registers) or 0/1 (bits). */
  async read(unit: number, fn: ModbusFunction, address: number, count: number): Promise<number[]> {
    const client = this.ready(unit);
    try {
      switch (fn) {
        case 'holding':
          return (await this.tracked(client.readHoldingRegisters(address, count))).data;
        case 'input':
          return (await this.tracked(client.readInputRegisters(address, count))).data;
        case 'coil':
          return (await this.tracked(client.readCoils(address, count))).data.slice(0, count).map((b: boolean) => (b ? 1 : 0));
        case 'discrete':
          return (await this.tracked(client.readDiscreteInputs(address, count))).data.slice(0, count).map((b: boolean) => (b ? 1 : 0));
      }
    } catch (err) {
      throw classify(err);
    }
  }

  async write(unit: number, fn: 'holding' | 'coil', address: number, values: readonly number[]): Promise<void> {
    const client = this.ready(unit);
    try {
      if (fn === 'coil') {
        if (values.length === 1) await this.tracked(client.writeCoil(address, values[0] !== 0));
        else await this.tracked(client.writeCoils(address, values.map((v) => v !== 0)));
      } else if (values.length === 1) await this.tracked(client.writeRegister(address, values[0] ?? 0));
      else await this.tracked(client.writeRegisters(address, [...values]));
    } catch (err) {
      throw classify(err);
    }
  }

  private ready(unit: number): ModbusRTU {
    const client = this.client;
    if (!client || !client.isOpen) throw new ModbusError('MODBUS_DISCONNECTED', `${describe(this.conn)} is not open`);
    client.setID(unit);
    return client;
  }
}

function closeQuietly(client: ModbusRTU): void {
  try {
    client.close(() => undefined);
  } catch {
    /* already closed */
  }
}

export function describe(c: ModbusConnection): string {
  return c.protocol === 'modbus-rtu' ? `${c.protocol} ${c.path}` : `${c.protocol} ${c.host}:${c.port}`;
}

function classify(err: unknown): ModbusError {
  if (err instanceof ModbusError) return err;
  const e = err as { modbusCode?: number; errno?: string; name?: string; message?: string };
  if (typeof e.modbusCode === 'number') return new ModbusError('MODBUS_EXCEPTION', `exception ${e.modbusCode}`, e.modbusCode);
  if (e.errno === 'ETIMEDOUT' || e.name === 'TransactionTimedOutError') return new ModbusError('MODBUS_TIMEOUT', 'no answer');
  const msg = e.message ?? String(err);
  if (/not open|ECONNRESET|EPIPE|closed/i.test(msg)) return new ModbusError('MODBUS_DISCONNECTED', msg);
  return new ModbusError('MODBUS_BAD_FRAME', msg);
}
