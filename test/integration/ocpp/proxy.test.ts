import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { TestChargePoint } from './charge-point.js';
import { ocppGateway, PASSWORD } from './harness.js';
import { FixtureUpstream } from './upstream.js';

/**
 * Proxy mode: the charger (bare `ws`, from the specification) talks through the gateway to a
 * fixture upstream central system (bare `ws` too). Frames arrive unchanged both ways, the
 * operator's remote start reaches the charger, the gateway reads the session, and an upstream
 * outage loses no transaction message.
 */
const cleanup = cleanupsAfterEach();

const T0 = Date.parse('2026-12-03T08:00:00Z');
const iso = (min: number) => new Date(T0 + min * 60_000).toISOString();
const parsed = (texts: readonly string[]) => texts.map((t) => JSON.parse(t) as unknown);

async function rig(extra = '') {
  const up = new FixtureUpstream();
  await up.start();
  const t = tempDir('fcgw-ocpp-proxy-');
  const yaml = `connections: [{ id: chargers, protocol: ocpp, host: 127.0.0.1, port: 0, call_timeout: 2s, upstream: "ws://127.0.0.1:${up.port}/operator/ocpp", passwords: { CP-001: ${PASSWORD} }${extra} }]
devices: [{ id: ev-1, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-001 }]
`;
  const g = await ocppGateway(t.dir, yaml);
  cleanup(() => t.cleanup());
  cleanup(() => up.stop());
  cleanup(() => g.gw.stop());
  return { up, ...g, dir: t.dir, yaml };
}

describe('OCPP proxy mode', () => {
  it('passes every frame unchanged both ways with the charger identity and credentials, and reads the session', async () => {
    // The local allow list is for answering while the operator is away; what the operator says counts here.
    const { up, gw, url } = await rig(', authorize: { mode: allow_list, id_tags: [SOMEONE-ELSE] }');
    const cp = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp.close());
    await waitFor(() => up.connected);
    expect(up.handshakes).toEqual([{ url: '/operator/ocpp/CP-001', authorization: `Basic ${Buffer.from(`CP-001:${PASSWORD}`).toString('base64')}`, protocol: 'ocpp1.6' }]);

    const sent: unknown[] = [];
    const got: unknown[] = [];
    const call = async (action: string, payload: unknown) => {
      const id = `m${sent.length + 1}`;
      sent.push([2, id, action, payload]);
      const a = await cp.raw(id, JSON.stringify([2, id, action, payload]));
      got.push(a);
      return a;
    };
    expect(await call('BootNotification', { chargePointVendor: 'VendorX', chargePointModel: 'M1', vendorSpecific: 'kept' })).toEqual([3, 'm1', { status: 'Accepted', currentTime: '2026-12-03T08:00:00.000Z', interval: 60 }]);
    await call('StatusNotification', { connectorId: 1, errorCode: 'NoError', status: 'Preparing', timestamp: iso(0) });
    const start = await call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 500, timestamp: iso(1) });
    expect(start).toEqual([3, 'm3', { transactionId: 9001, idTagInfo: { status: 'Accepted' } }]);
    await call('MeterValues', { connectorId: 1, transactionId: 9001, meterValue: [{ timestamp: iso(5), sampledValue: [{ value: '1700' }, { value: '7200', measurand: 'Power.Active.Import', unit: 'W' }] }] });
    // The operator's remote start reaches the charger unchanged, and its answer goes back unchanged.
    cp.onCall = () => ({ status: 'Accepted' });
    up.send(JSON.stringify([2, 'op-1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'TAG-2' }]));
    await waitFor(() => up.received.some((t) => t.includes('op-1')));
    await call('StopTransaction', { transactionId: 9001, meterStop: 4500, timestamp: iso(30), reason: 'Remote' });

    // Byte for byte after JSON parse: what the charger sent is what the upstream got, and back.
    const toUp = parsed(up.received);
    expect(toUp.filter((f) => (f as unknown[])[0] === 2)).toEqual(sent);
    expect(toUp.filter((f) => (f as unknown[])[0] === 3)).toEqual([[3, 'op-1', { status: 'Accepted' }]]);
    expect(parsed(up.sent).filter((f) => (f as unknown[])[0] === 3)).toEqual(got);
    expect(cp.calls).toEqual([[2, 'op-1', 'RemoteStartTransaction', { connectorId: 1, idTag: 'TAG-2' }]]);

    // The gateway still admits only chargers it knows, with their password: nothing reaches the operator.
    await expect(TestChargePoint.connect(url, { id: 'CP-001', password: 'not-the-password-0000' })).rejects.toThrow('HTTP 401');
    await expect(TestChargePoint.connect(url, { id: 'CP-666', password: PASSWORD })).rejects.toThrow('HTTP 404');
    expect(up.handshakes).toHaveLength(1);

    // The gateway read the session as it went by.
    await waitFor(() => gw.store.eventsAfter(0, 10).length === 2);
    const ev = gw.store.eventsAfter(0, 10);
    expect(ev.map((e) => [e.type, e.attributes['energy'] ?? e.attributes['meter_start']])).toEqual([['charging_started', 500], ['charging_stopped', 4000]]);
    const samples = gw.store.samplesAfter(0, 100).filter((s) => s.metric !== 'status').map((s) => [s.metric, s.value]);
    expect(samples).toEqual([['energy_total', 500], ['energy_total', 1700], ['power', 7200], ['energy_total', 4500]]);
  });

  it('answers as central system while the upstream is down and replays the transaction messages in order', async () => {
    const { up, url } = await rig();
    const cp = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp.close());
    await waitFor(() => up.connected);
    await cp.call('BootNotification', { chargePointVendor: 'VendorX', chargePointModel: 'M1' });
    const s1 = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 100, timestamp: iso(0) });
    expect((s1[2] as { transactionId: number }).transactionId).toBe(9001);

    // The operator goes away in the middle of the session.
    const port = up.port;
    await up.stop();
    const mv = await cp.call('MeterValues', { connectorId: 1, transactionId: 9001, meterValue: [{ timestamp: iso(10), sampledValue: [{ value: '900' }] }] });
    expect(mv).toEqual([3, 'm3', {}]);
    expect((await cp.call('StopTransaction', { transactionId: 9001, meterStop: 1500, timestamp: iso(20) }))[0]).toBe(3);
    // A new session while it is away gets the gateway's own transaction id...
    const s2 = await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 1500, timestamp: iso(25) });
    const local = (s2[2] as { transactionId: number }).transactionId;
    expect(s2).toEqual([3, 'm5', { transactionId: local, idTagInfo: { status: 'Accepted' } }]);
    expect(local).toBeGreaterThanOrEqual(2_000_000_000);
    expect((await cp.call('MeterValues', { connectorId: 1, transactionId: local, meterValue: [{ timestamp: iso(30), sampledValue: [{ value: '2100' }] }] }))[0]).toBe(3);
    expect((await cp.call('Heartbeat', {}))[0]).toBe(3);

    // ...and when the operator is back, everything transactional reaches it, in order, with its own ids.
    const back = new FixtureUpstream();
    await back.start(port);
    cleanup(() => back.stop());
    await waitFor(() => back.received.length >= 4, 15_000);
    const frames = parsed(back.received) as unknown[][];
    expect(frames.map((f) => [f[2], (f[3] as { transactionId?: number }).transactionId])).toEqual([
      ['MeterValues', 9001],
      ['StopTransaction', 9001],
      ['StartTransaction', undefined],
      ['MeterValues', 9001], // the upstream's id for the session it now knows (its counter restarted at 9001)
    ]);
    expect(frames.map((f) => f[1])).toEqual(['m3', 'm4', 'm5', 'm6']);
    // After the replay, calls pass through again.
    expect(await cp.call('Heartbeat', {})).toEqual([3, 'm8', { currentTime: '2026-12-03T08:00:00.000Z' }]);
  }, 30_000);

  it('keeps what waits for the operator across a gateway restart during the outage', async () => {
    const { up, url, gw, dir, yaml } = await rig();
    const cp = await TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD });
    await waitFor(() => up.connected);
    expect((await cp.call('StartTransaction', { connectorId: 1, idTag: 'TAG-1', meterStart: 100, timestamp: iso(0) }))[2]).toMatchObject({ transactionId: 9001 });
    const port = up.port;
    await up.stop();
    await cp.call('MeterValues', { connectorId: 1, transactionId: 9001, meterValue: [{ timestamp: iso(10), sampledValue: [{ value: '900' }] }] });
    await cp.call('StopTransaction', { transactionId: 9001, meterStop: 1500, timestamp: iso(20) });
    await cp.close();
    await gw.stop();

    // A new gateway process on the same data dir; the charger reconnects; the operator comes back.
    const again = await ocppGateway(dir, yaml);
    cleanup(() => again.gw.stop());
    const cp2 = await TestChargePoint.connect(again.url, { id: 'CP-001', password: PASSWORD });
    cleanup(() => cp2.close());
    const back = new FixtureUpstream();
    await back.start(port);
    cleanup(() => back.stop());
    await waitFor(() => back.received.length >= 2, 15_000);
    const frames = parsed(back.received) as unknown[][];
    expect(frames.map((f) => [f[1], f[2], (f[3] as { transactionId?: number }).transactionId])).toEqual([
      ['m2', 'MeterValues', 9001],
      ['m3', 'StopTransaction', 9001],
    ]);
  }, 30_000);
});
