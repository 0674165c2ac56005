import type { DriverContext, IngestBatch } from '../core/driver.js';
import type { EventReading, Reading } from '../../gateway/model/types.js';
import type { Loaded } from '../profiles/schema.js';
import type { OcppConnection } from './connection-schema.js';
import { meterReadings, parseTime, statusReading, type MeterValue } from './decode.js';
import type { OcppProfile } from './profile-schema.js';
import type { TransactionLedger } from './transactions.js';

/** One connector's device as the driver knows it (configured, or made by a discovery rule on first use). */
export interface ConnectorDevice {
  id: string;
  profile: Loaded<OcppProfile>;
}

/** What the central system needs from the driver for one charge point. */
export interface ChargePointPort {
  readonly chargePoint: string;
  readonly connection: OcppConnection;
  readonly ctx: DriverContext;
  readonly ledger: TransactionLedger;
  /** The device of a connector, or undefined (connector 0, or none configured and no rule admits it). */
  device(connector: number): ConnectorDevice | undefined;
  refuse(reason: string, detail: string, device?: string): void;
}

type Payload = Record<string, unknown>;
/**
 * `verdict`: in proxy mode, what the operator's central system answered about the id tag
 * (Accepted, Invalid…), which is what counts for reading the session, not the local list.
 */
export type Handler = (params: Payload, verdict?: string) => Promise<Payload>;

/** What the answers of every OCPP version share: time, commit, authorisation, meter values, the last status. */
export function sessionTools(cp: ChargePointPort) {
  const { ctx, connection } = cp;
  const now = () => new Date(ctx.clock.now()).toISOString();
  const commit = async (batch: IngestBatch) => {
    if ((batch.readings?.length ?? 0) + (batch.events?.length ?? 0) > 0) await ctx.ingest(batch);
  };
  const authorised = (idTag: string) => (connection.authorize.mode === 'accept_all' || connection.authorize.id_tags.includes(idTag) ? 'Accepted' : 'Invalid');
  const time = (s: unknown, device?: string): number | undefined => {
    const t = parseTime(typeof s === 'string' ? s : undefined, ctx.clock.now());
    if (t.ok) return t.value;
    cp.refuse(t.reason, t.detail, device);
    return undefined;
  };
  const meter = (connector: number, values: readonly MeterValue[], out: Reading[]) => {
    const d = cp.device(connector);
    if (!d) return;
    const r = meterReadings(d.profile, d.id, values);
    for (const p of r.problems) cp.refuse(p.reason, p.detail, d.id);
    out.push(...r.readings);
  };
  // OCPP sends a status on change only; the KPIs read states as "on change plus a keep-alive".
  // A Heartbeat proves the connection, over which every change would have come: the last status
  // still holds, and is stated again at the heartbeat's arrival (never before the status itself).
  const last = new Map<number, Reading>();
  const keepAlive = (): Reading[] => {
    const t = ctx.clock.now();
    const out: Reading[] = [];
    for (const [n, r] of last) {
      if (t <= r.ts) continue;
      const again = { ...r, ts: t };
      last.set(n, again);
      out.push(again);
    }
    return out;
  };
  const transactionMeter = (d: ConnectorDevice | undefined, wh: number, ts: number): Reading[] =>
    d?.profile.transaction_meter !== undefined ? [{ device: d.id, metric: d.profile.transaction_meter, value: wh, unit: 'Wh', ts }] : [];

  return { now, commit, authorised, time, meter, last, keepAlive, transactionMeter };
}

/**
 * OCPP 1.6 central system: the answers to each call a charge point makes (section 4 of the
 * standard). Payload shapes are checked against the standard's JSON schemas by the RPC layer
 * before a handler runs; a handler answers what the standard requires even when it refuses the
 * data (a charger that gets no answer sends the same call again, forever). Data is committed
 * before the answer, so an answered transaction message is never lost.
 */
export function centralSystemHandlers(cp: ChargePointPort): Record<string, Handler> {
  const { ctx, connection } = cp;
  const { now, commit, authorised, time, meter, last, keepAlive, transactionMeter } = sessionTools(cp);
  return {
    BootNotification: async (p) => {
      ctx.log.info({ chargePoint: cp.chargePoint, vendor: p['chargePointVendor'], model: p['chargePointModel'], firmware: p['firmwareVersion'] }, 'charge point booted');
      return { status: 'Accepted', currentTime: now(), interval: Math.max(1, Math.round(connection.heartbeat_interval / 1000)) };
    },
    Heartbeat: async () => {
      await commit({ readings: keepAlive() });
      return { currentTime: now() };
    },
    StatusNotification: async (p) => {
      const connector = p['connectorId'] as number;
      const d = cp.device(connector);
      if (!d) return {};
      const ts = time(p['timestamp'], d.id);
      if (ts === undefined) return {};
      const r = statusReading(d.profile, d.id, p['status'] as string, ts);
      if (!r.ok) cp.refuse(r.reason, r.detail, d.id);
      else {
        // The charger's latest word, whatever its time: calls of one charge point come in order.
        last.set(connector, r.value);
        await commit({ readings: [r.value] });
      }
      return {};
    },
    Authorize: async (p) => ({ idTagInfo: { status: authorised(p['idTag'] as string) } }),
    StartTransaction: async (p, verdict) => {
      const connector = p['connectorId'] as number;
      const idTag = p['idTag'] as string;
      const meterStart = p['meterStart'] as number;
      const d = cp.device(connector);
      const ts = time(p['timestamp'], d?.id) ?? ctx.clock.now();
      const status = verdict ?? authorised(idTag);
      // The standard wants a transaction id even for a refused tag; the charger then ends it.
      const transactionId = cp.ledger.start({ chargePoint: cp.chargePoint, connector, meterStart, startedAt: ts });
      if (d && status === 'Accepted') {
        const event: EventReading = { device: d.id, type: 'charging_started', ts, attributes: { credential: idTag, connector, transaction: String(transactionId), meter_start: meterStart } };
        await commit({ events: [event], readings: transactionMeter(d, meterStart, ts) });
      }
      return { transactionId, idTagInfo: { status } };
    },
    StopTransaction: async (p) => {
      const transactionId = p['transactionId'] as number;
      const meterStop = p['meterStop'] as number;
      const idTag = p['idTag'] as string | undefined;
      const open = cp.ledger.get(transactionId);
      const connector = open?.connector;
      const d = connector !== undefined ? cp.device(connector) : undefined;
      const ts = time(p['timestamp'], d?.id) ?? ctx.clock.now();
      const readings: Reading[] = [];
      if (connector !== undefined) meter(connector, (p['transactionData'] as MeterValue[] | undefined) ?? [], readings);
      readings.push(...transactionMeter(d, meterStop, ts));
      const events: EventReading[] = [];
      if (!open) cp.refuse('unknown_transaction', `StopTransaction for transaction ${transactionId}, which this central system did not start`);
      else if (d) {
        const attributes: EventReading['attributes'] = { connector: open.connector, transaction: String(transactionId), energy: meterStop - open.meterStart };
        if (idTag !== undefined) attributes['credential'] = idTag;
        if (typeof p['reason'] === 'string') attributes['reason'] = p['reason'];
        events.push({ device: d.id, type: 'charging_stopped', ts, attributes });
      }
      await commit({ readings, events });
      cp.ledger.stop(transactionId);
      return idTag !== undefined ? { idTagInfo: { status: authorised(idTag) } } : {};
    },
    MeterValues: async (p) => {
      const readings: Reading[] = [];
      meter(p['connectorId'] as number, p['meterValue'] as MeterValue[], readings);
      await commit({ readings });
      return {};
    },
    DataTransfer: async (p) => {
      // Vendor data may hold anything (personal data too): log who sent what kind, not the data.
      ctx.log.info({ chargePoint: cp.chargePoint, vendorId: p['vendorId'], messageId: p['messageId'] }, 'DataTransfer acknowledged');
      return { status: 'Accepted' };
    },
  };
}
