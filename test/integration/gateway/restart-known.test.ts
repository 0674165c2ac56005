import mqtt from 'mqtt';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { latest } from '../../../gateway/store/queries.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';

/**
 * A restart does not forget what the store knows: a discovered sensor stays listed, and a device
 * that stayed silent across the restart goes stale instead of showing its old values as good.
 */
const cleanup = cleanupsAfterEach();

describe('gateway restart with a store that knows devices', () => {
  it('restores discovered devices while their rule exists and marks silent devices stale', async () => {
    const t = tempDir('fcgw-known-');
    cleanup(t.cleanup);
    const port = await freePort();
    const config = (withRule: boolean) =>
      parseConfig(
        `version: 1
site: { id: known }
store: { path: ${join(t.dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${port} } }
api: { host: 127.0.0.1, port: 0 }
pipeline: { stale_after: 1s }
connections: [{ id: local, protocol: mqtt, url: embedded }]
devices: [{ id: meter-1, class: grid_meter, connection: local, profile: generic-json }]
${
          withRule
            ? `discover:
  - { connection: local, topic: "sensors/{sid}/up", profile: generic-json, class: parking_space, id: "space-{sid}", tags: { zone: B1 }, stale_after: 1s }
  - { connection: local, topic: "gates/{gid}/up", profile: generic-json, class: parking_garage, id: "gate-{gid}", stale_after: 1s }`
            : ''
        }
`,
        'known.yaml',
        {},
      );
    const start = async (withRule: boolean) => {
      const gw = Gateway.create({ config: config(withRule), log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) } });
      await gw.start();
      cleanup(() => gw.stop());
      return gw;
    };
    const publish = async (topic: string, body: unknown) => {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      await c.publishAsync(topic, JSON.stringify(body), { qos: 1 });
      await c.endAsync();
    };
    const view = (gw: Gateway) => Object.fromEntries(gw.deviceViews().map((d) => [d.id, d.status]));

    const first = await start(true);
    await publish('devices/meter-1/up', { values: { power: 1500 } });
    await publish('sensors/7/up', { values: { occupied: true } });
    // A barrier gate sends events only.
    await publish('gates/north/up', { events: [{ type: 'vehicle_entry', attributes: { vehicle: '浙A12345', gate: 'north' } }] });
    expect(view(first)).toEqual({ 'meter-1': 'online', 'space-7': 'online', 'gate-north': 'online' });
    const gateSeen = first.deviceViews().find((d) => d.id === 'gate-north')?.lastSeen;
    expect(gateSeen).toMatch(/^\d{4}-/);
    await first.stop();

    // Restarted: the sensor is listed again (with its tags), and both silent devices go stale.
    const second = await start(true);
    expect(second.devices.get('space-7')).toMatchObject({ discovered: true, config: { class: 'parking_space', tags: { zone: 'B1' } } });
    await waitFor(() => Object.values(view(second)).every((s) => s === 'stale'), 8_000);
    expect(view(second)).toEqual({ 'meter-1': 'stale', 'space-7': 'stale', 'gate-north': 'stale' });
    expect(second.deviceViews().find((d) => d.id === 'gate-north')?.lastSeen).not.toBeNull();
    expect(latest(second.store).map((r) => [r.device, r.metric, r.value, r.quality, r.reason])).toEqual([
      ['meter-1', 'power', 1500, 'uncertain', 'stale'],
      ['space-7', 'occupied', true, 'uncertain', 'stale'],
    ]);
    // It reports again: online, through the same discovery rule.
    await publish('sensors/7/up', { values: { occupied: false } });
    expect(view(second)['space-7']).toBe('online');
    await second.stop();

    // Without its rule, a discovered device is not brought back.
    const third = await start(false);
    expect(third.deviceViews().map((d) => d.id)).toEqual(['meter-1']);
  }, 40_000);
});
