import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { tempDir } from '../../helpers/peers.js';
import { TestChargePoint } from './charge-point.js';
import { ocppGateway, PASSWORD } from './harness.js';

/**
 * OCPP 2.0.1-J: a charging station written from the 2.0.1 specification's messages on bare `ws`
 * boots, reports its connector, authorises and runs a transaction (TransactionEvent Started,
 * Updated, Ended); the answers are what 2.0.1 requires and the store holds what it sent.
 */
const cleanup = cleanupsAfterEach();
const T0 = Date.parse('2026-12-03T08:00:00Z');
const iso = (min: number) => new Date(T0 + min * 60_000).toISOString();

describe('OCPP 2.0.1-J CSMS', () => {
  it('answers a station session and stores its statuses, energy and session events', async () => {
    const t = tempDir('fcgw-ocpp201-');
    const { gw, url } = await ocppGateway(
      t.dir,
      `connections: [{ id: chargers, protocol: ocpp, host: 127.0.0.1, port: 0, versions: [ocpp1.6, ocpp2.0.1], password: ${PASSWORD} }]
discover: [{ connection: chargers, profile: ocpp201-charger, class: ev_charger, id: "ev-{chargePointId}" }]
`,
    );
    cleanup(() => t.cleanup());
    cleanup(() => gw.stop());
    // A station that offers only 1.6 is refused: the rule's profile speaks 2.0.1.
    await expect(TestChargePoint.connect(url, { id: 'CS-1', password: PASSWORD, protocols: ['ocpp1.6'] })).rejects.toThrow('HTTP 400');
    const cs = await TestChargePoint.connect(url, { id: 'CS-1', password: PASSWORD, protocols: ['ocpp2.0.1', 'ocpp1.6'] });
    cleanup(() => cs.close());
    expect(cs.protocol).toBe('ocpp2.0.1');

    const boot = await cs.call('BootNotification', { reason: 'PowerUp', chargingStation: { model: 'SingleSocketCharger', vendorName: 'VendorX' } });
    expect(boot).toEqual([3, 'm1', { currentTime: expect.any(String) as unknown, interval: 300, status: 'Accepted' }]);
    expect(await cs.call('StatusNotification', { timestamp: iso(0), connectorStatus: 'Occupied', evseId: 1, connectorId: 1 })).toEqual([3, 'm2', {}]);
    expect(await cs.call('Authorize', { idToken: { idToken: 'RFID-201', type: 'ISO14443' } })).toEqual([3, 'm3', { idTokenInfo: { status: 'Accepted' } }]);
    const tx = { transactionId: 'a1b2c3d4-0001' };
    const energy = (wh: number, min: number) => [{ timestamp: iso(min), sampledValue: [{ value: wh, measurand: 'Energy.Active.Import.Register', unitOfMeasure: { unit: 'Wh' } }] }];
    expect(
      await cs.call('TransactionEvent', { eventType: 'Started', timestamp: iso(1), triggerReason: 'Authorized', seqNo: 0, transactionInfo: { ...tx, chargingState: 'EVConnected' }, idToken: { idToken: 'RFID-201', type: 'ISO14443' }, evse: { id: 1, connectorId: 1 }, meterValue: energy(10_000, 1) }),
    ).toEqual([3, 'm4', { idTokenInfo: { status: 'Accepted' } }]);
    expect(
      await cs.call('TransactionEvent', { eventType: 'Updated', timestamp: iso(2), triggerReason: 'ChargingStateChanged', seqNo: 1, transactionInfo: { ...tx, chargingState: 'Charging' }, meterValue: [{ timestamp: iso(2), sampledValue: [{ value: 7.4, measurand: 'Power.Active.Import', unitOfMeasure: { unit: 'kW' } }] }] }),
    ).toEqual([3, 'm5', {}]);
    expect(await cs.call('MeterValues', { evseId: 1, meterValue: [{ timestamp: iso(30), sampledValue: [{ value: 13.7, unitOfMeasure: { unit: 'kWh' } }] }] })).toEqual([3, 'm6', {}]);
    expect(
      await cs.call('TransactionEvent', { eventType: 'Ended', timestamp: iso(60), triggerReason: 'EVCommunicationLost', seqNo: 2, transactionInfo: { ...tx, chargingState: 'Idle', stoppedReason: 'EVDisconnected' }, meterValue: energy(17_250, 60) }),
    ).toEqual([3, 'm7', {}]);
    const bad = await cs.call('TransactionEvent', { eventType: 'Started', timestamp: iso(61) });
    expect(bad[0]).toBe(4);

    const of = (m: string) => gw.store.samplesAfter(0, 100).filter((s) => s.device === 'ev-cs-1' && s.metric === m).map((s) => [s.ts - T0, s.value]);
    expect(of('status')).toEqual([[0, 'preparing'], [60_000, 'preparing'], [120_000, 'charging'], [3_600_000, 'preparing']]);
    expect(of('energy_total')).toEqual([[60_000, 10_000], [1_800_000, 13_700], [3_600_000, 17_250]]);
    expect(of('power')).toEqual([[120_000, 7400]]);
    const events = gw.store.eventsAfter(0, 10).map((e) => [e.type, e.attributes['transaction'], e.attributes['energy'] ?? e.attributes['meter_start']]);
    expect(events).toEqual([['charging_started', tx.transactionId, 10_000], ['charging_stopped', tx.transactionId, 7250]]);
    expect(JSON.stringify(gw.store.eventsAfter(0, 10))).not.toContain('RFID-201');
  });
});
