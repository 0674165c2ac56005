import type { EventReading, Reading } from '../../gateway/model/types.js';
import { sessionTools, type ChargePointPort, type Handler } from './central-system.js';
import { energyRegister, from201, statusReading, type MeterValue201 } from './decode.js';

/**
 * OCPP 2.0.1 CSMS: the answers to a charging station's calls (the part a community's chargers
 * need: provisioning, availability, authorisation, transactions, meter values). The station
 * names its own transactions (TransactionEvent Started / Updated / Ended); each EVSE is a device
 * (evse 1 is the charger's own id, as connector 1 in 1.6). Payloads are checked against the
 * standard's schemas by the RPC layer first.
 */
export function csmsHandlers(cp: ChargePointPort): Record<string, Handler> {
  const { ctx } = cp;
  const { now, commit, authorised, time, meter, last, keepAlive, transactionMeter } = sessionTools(cp);
  const tokenInfo = (t: unknown) => ({ status: authorised(String((t as { idToken?: unknown } | undefined)?.idToken ?? '')) });
  const ack = async () => ({});

  return {
    BootNotification: async (p) => {
      const station = p['chargingStation'] as { vendorName?: string; model?: string; firmwareVersion?: string } | undefined;
      ctx.log.info({ chargePoint: cp.chargePoint, vendor: station?.vendorName, model: station?.model, firmware: station?.firmwareVersion, reason: p['reason'] }, 'charging station booted');
      return { currentTime: now(), interval: Math.max(1, Math.round(cp.connection.heartbeat_interval / 1000)), status: 'Accepted' };
    },
    Heartbeat: async () => {
      await commit({ readings: keepAlive() });
      return { currentTime: now() };
    },
    StatusNotification: async (p) => {
      const evse = p['evseId'] as number;
      const d = cp.device(evse);
      if (!d) return {};
      const ts = time(p['timestamp'], d.id);
      if (ts === undefined) return {};
      const r = statusReading(d.profile, d.id, p['connectorStatus'] as string, ts);
      if (!r.ok) cp.refuse(r.reason, r.detail, d.id);
      else {
        last.set(evse, r.value);
        await commit({ readings: [r.value] });
      }
      return {};
    },
    Authorize: async (p) => ({ idTokenInfo: tokenInfo(p['idToken']) }),
    TransactionEvent: async (p, verdict) => {
      const info = p['transactionInfo'] as { transactionId: string; chargingState?: string; stoppedReason?: string };
      const key = info.transactionId;
      const evseId = (p['evse'] as { id?: number } | undefined)?.id;
      const open = cp.ledger.get201(key);
      const evse = evseId ?? open?.connector ?? 1;
      const d = cp.device(evse);
      const ts = time(p['timestamp'], d?.id) ?? ctx.clock.now();
      const values = from201((p['meterValue'] as MeterValue201[] | undefined) ?? []);
      const readings: Reading[] = [];
      const events: EventReading[] = [];
      meter(evse, values, readings);
      const state = info.chargingState !== undefined ? d?.profile.charging_state?.map[info.chargingState] : undefined;
      if (d && state !== undefined) {
        const r: Reading = { device: d.id, metric: d.profile.status.metric, value: state, ts };
        last.set(evse, r);
        readings.push(r);
      }
      const register = d ? energyRegister(d.profile, values) : undefined;
      const token = (p['idToken'] as { idToken?: string } | undefined)?.idToken;
      const type = p['eventType'] as string;
      if (type === 'Started' && !open) {
        cp.ledger.track201(key, { chargePoint: cp.chargePoint, connector: evse, meterStart: register ?? Number.NaN, startedAt: ts });
        if (d && (token === undefined || (verdict ?? authorised(token)) === 'Accepted'))
          events.push({ device: d.id, type: 'charging_started', ts, attributes: { credential: token ?? '', connector: evse, transaction: key, meter_start: register ?? 0 } });
      } else if (type === 'Ended') {
        const t = cp.ledger.take201(key);
        if (!t) cp.refuse('unknown_transaction', `TransactionEvent Ended for ${key.slice(0, 36)}, which never started here`);
        else if (d && register !== undefined && Number.isFinite(t.meterStart)) {
          const attributes: EventReading['attributes'] = { connector: evse, transaction: key, energy: register - t.meterStart };
          if (token !== undefined) attributes['credential'] = token;
          if (info.stoppedReason !== undefined) attributes['reason'] = info.stoppedReason;
          events.push({ device: d.id, type: 'charging_stopped', ts, attributes });
        } else cp.refuse('no_meter', `transaction ${key.slice(0, 36)} ended without an energy register at start and end`, d?.id);
      }
      if (register !== undefined && readings.every((r) => r.metric !== d?.profile.transaction_meter)) readings.push(...transactionMeter(d, register, ts));
      await commit({ readings, events });
      return token !== undefined ? { idTokenInfo: tokenInfo(p['idToken']) } : {};
    },
    MeterValues: async (p) => {
      const readings: Reading[] = [];
      meter(p['evseId'] as number, from201(p['meterValue'] as MeterValue201[]), readings);
      await commit({ readings });
      return {};
    },
    DataTransfer: async (p) => {
      ctx.log.info({ chargePoint: cp.chargePoint, vendorId: p['vendorId'], messageId: p['messageId'] }, 'DataTransfer acknowledged');
      return { status: 'Accepted' };
    },
    // Reports a station sends on its own; acknowledged (the gateway reads none of them yet).
    NotifyEvent: ack,
    NotifyReport: ack,
    SecurityEventNotification: ack,
    FirmwareStatusNotification: ack,
    LogStatusNotification: ack,
  };
}
