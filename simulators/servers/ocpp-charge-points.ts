import { RPCClient } from 'ocpp-rpc';
import type { Logger } from 'pino';
import type { Clock } from '../../gateway/model/clock.js';
import type { SimulatorGroup } from '../core.js';
import type { ChargerOutput } from '../models/chargers.js';

type ClientOptions = ConstructorParameters<typeof RPCClient>[0];

export interface OcppChargePointsOptions {
  /** The central system's endpoint without the identity: ws://127.0.0.1:9220/ocpp. */
  url: string;
  /** Charge point identity of each charger (index = the model's charger number). */
  ids: readonly string[];
  /** HTTP Basic password (security profile 1); none on a loopback demo. */
  password?: string | undefined;
  log: Logger;
  /** The simulation's clock: a heartbeat is skipped when the charger's messages trail it. */
  clock: Clock;
}

interface Point {
  id: string;
  client: RPCClient;
  /** Calls of this charge point, one after the other (OCPP: one call in flight per side). */
  chain: Promise<void>;
  /** The model's transaction number → the central system's transaction id. */
  transactions: Map<number, number>;
  /** Heartbeat interval the central system gave at boot (ms), and the simulated time of the last one. */
  interval: number;
  lastBeat: number;
}

const RETRY_MS = 500;
/** Simulated time a charger's messages may trail the clock for a heartbeat to go out. */
const MAX_BEAT_LAG_MS = 30_000;

/**
 * The community's chargers as OCPP 1.6-J charge points (ocpp-rpc clients, strict mode: the
 * central system's answers are checked against the standard's schemas). Each opens its own
 * WebSocket, boots, and turns the charger model's outputs into calls: StatusNotification,
 * Authorize + StartTransaction, MeterValues, StopTransaction. Like a real charger it sends its
 * transaction messages again until they are answered, in order.
 */
export class OcppChargePoints implements SimulatorGroup {
  readonly name = 'transport-chargers';
  private readonly points: Point[];
  private stopped = false;
  private readonly stats = { calls: 0, call_errors: 0, retries: 0 };

  constructor(private readonly opts: OcppChargePointsOptions) {
    this.points = opts.ids.map((id) => {
      const o = { identity: id, endpoint: opts.url, protocols: ['ocpp1.6'], strictMode: true, reconnect: true, callTimeoutMs: 10_000, ...(opts.password ? { password: opts.password } : {}) };
      return { id, client: new RPCClient(o as unknown as ClientOptions), chain: Promise.resolve(), transactions: new Map<number, number>(), interval: 0, lastBeat: Number.NEGATIVE_INFINITY };
    });
  }

  async start(): Promise<void> {
    this.stopped = false;
    for (const p of this.points) {
      p.client.on('error', () => undefined);
      p.chain = p.chain.then(async () => {
        await this.retry(p, () => p.client.connect());
        const boot = (await this.call(p, 'BootNotification', { chargePointVendor: 'fcgw-sim', chargePointModel: 'AC7' })) as { interval?: number } | undefined;
        p.interval = (boot?.interval ?? 300) * 1000;
      });
    }
    // Connections complete in the background; a charger's calls wait behind its boot.
  }

  /**
   * Hand over the model's outputs up to simulated time `now` (called by ChargerSource in time
   * order); each charge point also sends a Heartbeat every interval of simulated time.
   */
  send(outputs: readonly ChargerOutput[], now: number): void {
    for (const o of outputs) {
      const p = this.points[o.charger];
      if (!p) continue;
      p.chain = p.chain.then(() => this.one(p, o));
    }
    for (const p of this.points) {
      p.chain = p.chain.then(async () => {
        if (p.interval <= 0 || now - p.lastBeat < p.interval) return;
        // The central system stamps a heartbeat on arrival. One sent while this charger's
        // messages trail the clock (a backlog) would say "still so" later than what follows it
        // in its own time: skip it, as OCPP lets a charger that has been talking anyway.
        if (this.opts.clock.now() - now > MAX_BEAT_LAG_MS) return;
        p.lastBeat = now;
        await this.call(p, 'Heartbeat', {});
      });
    }
  }

  /** Resolves when every call handed over so far is answered (tests). */
  async drain(): Promise<void> {
    await Promise.all(this.points.map((p) => p.chain));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.points.map((p) => p.client.close({ force: true }).catch(() => undefined)));
  }

  groundTruth(): Record<string, unknown> {
    return { charge_points: this.points.length, ...this.stats };
  }

  private async one(p: Point, o: ChargerOutput): Promise<void> {
    const timestamp = new Date(o.ts).toISOString();
    switch (o.kind) {
      case 'status':
        await this.call(p, 'StatusNotification', { connectorId: 1, errorCode: 'NoError', status: o.status, timestamp });
        return;
      case 'start': {
        await this.call(p, 'Authorize', { idTag: o.idTag });
        const r = (await this.call(p, 'StartTransaction', { connectorId: 1, idTag: o.idTag, meterStart: o.energyWh, timestamp })) as { transactionId?: number } | undefined;
        if (r?.transactionId !== undefined) p.transactions.set(o.transactionId, r.transactionId);
        return;
      }
      case 'meter': {
        const tx = p.transactions.get(o.transactionId);
        const sampledValue = [
          { value: String(o.energyWh), context: 'Sample.Periodic', measurand: 'Energy.Active.Import.Register', unit: 'Wh' },
          { value: String(o.powerW), context: 'Sample.Periodic', measurand: 'Power.Active.Import', unit: 'W' },
        ];
        await this.call(p, 'MeterValues', { connectorId: 1, ...(tx !== undefined ? { transactionId: tx } : {}), meterValue: [{ timestamp, sampledValue }] });
        return;
      }
      case 'stop': {
        const tx = p.transactions.get(o.transactionId);
        if (tx === undefined) return;
        p.transactions.delete(o.transactionId);
        await this.call(p, 'StopTransaction', { transactionId: tx, meterStop: o.energyWh, timestamp, reason: 'EVDisconnected' });
        return;
      }
    }
  }

  /** A call, sent again after a timeout or a lost connection; a CallError is an answer (counted). */
  private async call(p: Point, action: string, payload: Record<string, unknown>): Promise<unknown> {
    return this.retry(p, async () => {
      try {
        this.stats.calls++;
        return await p.client.call(action, payload);
      } catch (err) {
        if ((err as { rpcErrorCode?: string }).rpcErrorCode === undefined) throw err;
        this.stats.call_errors++;
        this.opts.log.warn({ chargePoint: p.id, action, err: (err as Error).message }, 'central system answered with a CallError');
        return undefined;
      }
    });
  }

  private async retry<T>(p: Point, fn: () => Promise<T>): Promise<T | undefined> {
    for (;;) {
      if (this.stopped) return undefined;
      try {
        return await fn();
      } catch (err) {
        if (this.stopped) return undefined;
        this.stats.retries++;
        this.opts.log.debug({ chargePoint: p.id, err: (err as Error).message }, 'charge point retries');
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}
