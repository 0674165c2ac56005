import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { TestChargePoint } from './charge-point.js';
import { ocppGateway, PASSWORD, SHARED } from './harness.js';

/**
 * The gateway as OCPP 1.6-J central system, driven by an independent charge point written from
 * the specification on bare `ws` (the driver uses ocpp-rpc). Every call is answered as the
 * standard requires, and what the charge point said is what the store holds.
 */
const cleanup = cleanupsAfterEach();

const CONFIG = `connections:
  - id: chargers
    protocol: ocpp
    host: 127.0.0.1
    port: 0
    path: /ocpp
    heartbeat_interval: 2m
    passwords: { CP-001: ${PASSWORD} }
    authorize: { mode: allow_list, id_tags: [TAG-OK-1] }
devices:
  - { id: ev-1, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-001 }
`;

async function start(yaml = CONFIG, dir?: string) {
  const t = dir ? { dir, cleanup: () => undefined } : tempDir('fcgw-ocpp-');
  const g = await ocppGateway(t.dir, yaml);
  cleanup(() => t.cleanup());
  cleanup(() => g.gw.stop());
  return { ...g, dir: t.dir };
}

const T0 = Date.parse('2026-12-03T08:00:00Z');
const iso = (min: number) => new Date(T0 + min * 60_000).toISOString();

describe('OCPP 1.6-J central system', () => {
  it('answers a whole session as the standard requires, and stores what the charge point sent', async () => {
    const { gw, url } = await start();
    const cp = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp.close());
    expect(cp.protocol).toBe('ocpp1.6');

    const boot = await cp.call('BootNotification', { chargePointVendor: 'VendorX', chargePointModel: 'SingleSocketCharger' });
    expect(boot.slice(0, 2)).toEqual([3, 'm1']);
    expect(boot[2]).toEqual({ status: 'Accepted', currentTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown, interval: 120 });
    const hb = await cp.call('Heartbeat', {});
    expect(hb).toEqual([3, 'm2', { currentTime: expect.any(String) as unknown }]);
    expect(await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: iso(0) })).toEqual([3, 'm3', {}]);
    expect(await cp.call('Authorize', { idTag: 'TAG-OK-1' })).toEqual([3, 'm4', { idTagInfo: { status: 'Accepted' } }]);
    expect(await cp.call('Authorize', { idTag: 'TAG-STOLEN' })).toEqual([3, 'm5', { idTagInfo: { status: 'Invalid' } }]);
    const start1 = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-OK-1', meterStart: 1000, timestamp: iso(1) });
    expect(start1[0]).toBe(3);
    const tx = (start1[2] as { transactionId: number }).transactionId;
    expect(Number.isInteger(tx)).toBe(true);
    expect(start1[2]).toEqual({ transactionId: tx, idTagInfo: { status: 'Accepted' } });
    expect(await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Charging', timestamp: iso(1) })).toEqual([3, 'm7', {}]);
    // Per phase in kW (summed), energy in kWh: the units the charge point states win.
    const mv = await cp.call('MeterValues', {
      connectorId: 1,
      transactionId: tx,
      meterValue: [
        {
          timestamp: iso(10),
          sampledValue: [
            { value: '2.4', measurand: 'Power.Active.Import', unit: 'kW', phase: 'L1' },
            { value: '2.4', measurand: 'Power.Active.Import', unit: 'kW', phase: 'L2' },
            { value: '2.4', measurand: 'Power.Active.Import', unit: 'kW', phase: 'L3' },
            { value: '2.2', unit: 'kWh', context: 'Sample.Periodic' },
            { value: '60', measurand: 'SoC', unit: 'Percent', location: 'EV' },
          ],
        },
      ],
    });
    expect(mv).toEqual([3, 'm8', {}]);
    const stop = await cp.call('StopTransaction', { transactionId: tx, idTag: 'TAG-OK-1', meterStop: 6000, timestamp: iso(40), reason: 'EVDisconnected' });
    expect(stop).toEqual([3, 'm9', { idTagInfo: { status: 'Accepted' } }]);
    expect(await cp.call('DataTransfer', { vendorId: 'com.vendorx', messageId: 'diag', data: 'x' })).toEqual([3, 'm10', { status: 'Accepted' }]);
    expect(await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: iso(41) })).toEqual([3, 'm11', {}]);

    // A connector no device stands for is answered (the charger must not retry forever) and counted.
    const rejections = () => gw.driverHealth().find((x) => x.connection === 'chargers')?.counters?.['rejections'] ?? 0;
    const before = rejections();
    expect(await cp.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Faulted', timestamp: iso(42) })).toEqual([3, 'm12', {}]);
    expect(rejections()).toBe(before + 1);
    expect(await cp.call('StatusNotification', { connectorId: 0, errorCode: 'NoError', status: 'Available', timestamp: iso(42) })).toEqual([3, 'm13', {}]);
    expect(rejections()).toBe(before + 1);

    const samples = gw.store.samplesAfter(0, 1000).filter((s) => s.device === 'ev-1');
    const of = (m: string) => samples.filter((s) => s.metric === m).map((s) => [s.ts - T0, s.value]);
    expect(of('status')).toEqual([[0, 'preparing'], [60_000, 'charging'], [41 * 60_000, 'available']]);
    expect(of('energy_total')).toEqual([[60_000, 1000], [600_000, 2200], [2_400_000, 6000]]);
    expect(of('power')).toEqual([[600_000, 7200]]);
    const events = gw.store.eventsAfter(0, 100).map((e): Record<string, unknown> => ({ type: e.type, ts: e.ts - T0, ...e.attributes }));
    expect(events).toEqual([
      { type: 'charging_started', ts: 60_000, connector: 1, transaction: String(tx), meter_start: 1000, credential: expect.any(String) as unknown },
      { type: 'charging_stopped', ts: 2_400_000, connector: 1, transaction: String(tx), energy: 5000, reason: 'EVDisconnected', credential: expect.any(String) as unknown },
    ]);
    // The id tag is personal data: only its pseudonym is stored, the same at start and stop.
    const creds = events.map((e) => e.credential as string);
    expect(creds[0]).not.toContain('TAG-OK-1');
    expect(creds[0]).toBe(creds[1]);
  });

  it('answers an unknown action, a malformed payload and a wrong type with a CallError', async () => {
    const { url } = await start();
    const cp = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp.close());
    const unknown = await cp.call('OpenTheGarageDoor', {});
    expect(unknown.slice(0, 3)).toEqual([4, 'm1', 'NotImplemented']);
    expect(unknown).toHaveLength(5);
    const missing = await cp.call('BootNotification', { chargePointVendor: 'VendorX' });
    expect(missing[0]).toBe(4);
    expect(['FormationViolation', 'OccurrenceConstraintViolation', 'ProtocolError']).toContain(missing[2]);
    const wrongType = await cp.call('StartTransaction', { connectorId: '1', idTag: 'TAG-OK-1', meterStart: 'lots', timestamp: iso(0) });
    expect(wrongType[0]).toBe(4);
    expect(['TypeConstraintViolation', 'FormationViolation']).toContain(wrongType[2]);
    const badStatus = await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Exploded' });
    expect(badStatus[0]).toBe(4);
    // After all that the connection still serves.
    expect((await cp.call('Heartbeat', {}))[0]).toBe(3);
  });

  it('counts frames that are not OCPP-J and keeps serving; an oversized frame closes only that connection', async () => {
    const { url, gw } = await start();
    const cp = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp.close());
    for (const junk of ['not json', '[2]', '{"2":"x"}', '[9,"a","Heartbeat",{}]', '[2,"b",17,{}]', '[2,"c","Heartbeat","{}"]']) cp.sendRaw(junk);
    cp.sendRaw(Buffer.from([0x80, 0x81, 0xff]));
    expect(await cp.call('Heartbeat', {})).toEqual([3, 'm1', { currentTime: expect.any(String) as unknown }]);
    const h = () => gw.driverHealth().find((x) => x.connection === 'chargers')?.counters ?? {};
    expect(h()['rejections']).toBeGreaterThanOrEqual(6);
    const code = cp.closeCode();
    cp.sendRaw(JSON.stringify([2, 'big', 'DataTransfer', { vendorId: 'x', data: 'A'.repeat(300 * 1024) }]));
    expect(await code).toBe(1009);
    const again = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => again.close());
    expect((await again.call('Heartbeat', {}))[0]).toBe(3);
    expect(gw.store.counts().samples).toBe(0);
  });

  it('refuses an unknown charge point, a wrong password and attacker spellings of the identity', async () => {
    const { url, gw } = await start();
    const refused = async (o: Parameters<typeof TestChargePoint.connect>[1], path = url) => {
      try {
        const cp = await TestChargePoint.connect(path, o);
        await cp.close();
        return 'accepted';
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(await refused({ id: 'CP-999', password: PASSWORD })).toBe('HTTP 404');
    expect(await refused({ id: 'CP-001', password: 'cp001-secret-0123456788' })).toBe('HTTP 401');
    expect(await refused({ id: 'CP-001' })).toBe('HTTP 401');
    expect(await refused({ id: 'CP-001', password: '' })).toBe('HTTP 401');
    expect(await refused({ id: 'CP-001', password: PASSWORD, user: 'CP-002' })).toBe('HTTP 401');
    expect(await refused({ id: 'cp-001', password: PASSWORD })).toBe('HTTP 404');
    expect(await refused({ id: '../CP-001', password: PASSWORD })).toBe('HTTP 400');
    expect(await refused({ id: 'CP-001\u0000', password: PASSWORD })).toBe('HTTP 400');
    expect(await refused({ id: 'CP-001', password: PASSWORD }, url.replace('/ocpp', '/other'))).toBe('HTTP 404');
    expect(await refused({ id: 'CP-001', password: PASSWORD, protocols: ['ocpp1.5'] })).toBe('HTTP 400');
    expect(await refused({ id: 'CP-001', password: PASSWORD })).toBe('accepted');
    const h = gw.driverHealth().find((x) => x.connection === 'chargers');
    expect(h?.counters?.['refused_connections']).toBe(10);
    expect(gw.store.counts().samples).toBe(0);
  });

  it('admits a charge point a discovery rule names, as device ev-<id>, with the shared password', async () => {
    const yaml = `connections:
  - { id: chargers, protocol: ocpp, host: 127.0.0.1, port: 0, password: ${SHARED} }
discover:
  - { connection: chargers, profile: ocpp16-charger, class: ev_charger, id: "ev-{chargePointId}" }
`;
    const { url, gw } = await start(yaml);
    const cp = await TestChargePoint.connect(url, { id: 'CP-7', password: SHARED });
    cleanup(() => cp.close());
    expect((await cp.call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Available', timestamp: iso(0) }))[0]).toBe(3);
    expect((await cp.call('StatusNotification', { connectorId: 2, errorCode: 'NoError', status: 'Faulted', timestamp: iso(0) }))[0]).toBe(3);
    const got = gw.store.samplesAfter(0, 100).map((s) => [s.device, s.metric, s.value]);
    expect(got).toEqual([['ev-cp-7', 'status', 'available'], ['ev-cp-7-2', 'status', 'faulted']]);
    await expect(TestChargePoint.connect(url, { id: 'CP-8', password: 'not-the-shared-secret!' })).rejects.toThrow('HTTP 401');
  });

  it('keeps transaction ids unique across a restart', async () => {
    const first = await start();
    const cp = await TestChargePoint.connect(first.url, { id: 'CP-001', password: PASSWORD });
    const a = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-OK-1', meterStart: 0, timestamp: iso(0) });
    await cp.close();
    await first.gw.stop();
    const second = await start(CONFIG, first.dir);
    const cp2 = await TestChargePoint.connect(second.url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp2.close());
    const b = await cp2.call('StartTransaction', { connectorId: 1, idTag: 'TAG-OK-1', meterStart: 100, timestamp: iso(5) });
    const ta = (a[2] as { transactionId: number }).transactionId;
    const tb = (b[2] as { transactionId: number }).transactionId;
    expect(tb).toBeGreaterThan(ta);
    // The transaction started before the restart still ends with its energy.
    expect((await cp2.call('StopTransaction', { transactionId: ta, meterStop: 900, timestamp: iso(9) }))[2]).toEqual({});
    await waitFor(() => second.gw.store.eventsAfter(0, 100).some((e) => e.type === 'charging_stopped'));
    expect(second.gw.store.eventsAfter(0, 100).find((e) => e.type === 'charging_stopped')?.attributes['energy']).toBe(900);
  });
});
