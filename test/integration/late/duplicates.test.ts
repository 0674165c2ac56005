import mqtt from 'mqtt';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { encodeWaterMeterFrame, encodeWaterStatus, WATER_METER_PORT } from '../../../drivers/mqtt/codecs/lorawan-water-meter.js';
import type { DriverHealth } from '../../../drivers/core/driver.js';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { APPLICATIONS, chirpstackUplink } from '../../../simulators/transport/chirpstack.js';
import { mulberry32 } from '../../../simulators/transport/rng.js';
import { freePort, tempDir } from '../../helpers/peers.js';

/**
 * Copies are recognised by identity, not by order, in the real gateway (embedded broker: a PUBACK
 * means committed): the same LoRaWAN uplink relayed through a second gateway and network-server
 * instance, a QoS 1 redelivery, and a batch a handheld syncs twice are each stored once and
 * counted as duplicates in /metrics and /api/health; nothing is counted as bad input.
 */

const H = 3_600_000;
const iso8 = (ts: number) => new Date(ts + 8 * H).toISOString().replace('Z', '+08:00');

describe('late data: duplicates', () => {
  it('the same uplink via two gateways, a QoS 1 redelivery and a batch synced twice are stored once and counted', async () => {
    const t = tempDir('fcgw-dup-');
    const port = await freePort();
    const rules = (parseYaml(readFileSync('config/demo.yaml', 'utf8')) as { discover: { connection: string }[] }).discover.filter((r) => r.connection === 'community-mqtt');
    const config = parseConfig(
      `version: 1
site: { id: dup }
store: { path: ${join(t.dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${port} } }
api: { host: 127.0.0.1, port: 0 }
connections: [{ id: community-mqtt, protocol: mqtt, url: embedded }]
discover: ${JSON.stringify(rules)}
`,
      'test.yaml',
      {},
    );
    const gw = Gateway.create({ config, log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 'd'.repeat(32) } });
    await gw.start();
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'handheld-and-ns' });
    try {
      const now = Date.now();
      const send = (topic: string, body: unknown, dup = false) => pub.publishAsync(topic, JSON.stringify(body), { qos: 1, dup });
      const counts = () => gw.store.counts();

      // 1. One LoRaWAN uplink, then the same frame relayed by a second gateway to another
      //    network-server instance: another deduplicationId, time and gateway; same counter and bytes.
      const frame = encodeWaterMeterFrame({ time: Math.floor((Math.floor(now / H) * H - 23 * H) / 1000), status: encodeWaterStatus({ leak: false, low_battery: false }), logVolumeL: 1_234_000, deltas: Array.from({ length: 23 }, (_, k) => 100 + k) });
      const device = { devEui: '70b3d5e75e000001', name: 'wm-lora-01', tags: { water_type: 'potable', building: 'b1' }, fCnt: 41 };
      const up = chirpstackUplink(APPLICATIONS.water, device, WATER_METER_PORT, frame, now - 60_000, mulberry32(1));
      await send(up.topic, up.body);
      const afterFirst = counts();
      const relayed = structuredClone(up.body) as Record<string, unknown> & { rxInfo: { gatewayId: string }[] };
      relayed['deduplicationId'] = '5e0f7a21-9c3b-4d8e-a1f2-3b4c5d6e7f80';
      relayed['time'] = new Date(now - 60_000 + 183).toISOString();
      (relayed.rxInfo[0] as { gatewayId: string }).gatewayId = '0016c001ff10a299';
      await send(up.topic, relayed);
      expect(counts()).toEqual(afterFirst);
      expect(afterFirst.samples).toBeGreaterThanOrEqual(47);

      // 2. A QoS 1 redelivery (DUP set): the locker's deposit sent again.
      const deposit = { event: 'deposit', tracking_no: 'SF1000000000001', compartment: 'A-01', occupied: 1, total: 40, ts: now - 50_000 };
      await send('logistics/locker/1/event', deposit);
      const afterDeposit = counts();
      await send('logistics/locker/1/event', deposit, true);
      expect(counts()).toEqual(afterDeposit);

      // 3. A handheld syncs a batch of 12 deliveries and the lockers' status readings, newer
      //    arrivals follow, and the same batch is synced again (beyond the driver's short memory):
      //    the store recognises every event and reading.
      const batch = Array.from({ length: 12 }, (_, i) => ({ event: 'delivered', waybill: `YT55500011${String(i).padStart(2, '0')}`, ts: iso8(now - 3 * H + i * 60_000) }));
      const status = Array.from({ length: 12 }, (_, i) => ({ event: 'status', occupied: 5 + i, total: 40, ts: now - 3 * H + i * 60_000 }));
      const syncBatch = async () => {
        for (const b of batch) await send('logistics/platform/hub/event', b);
        for (const s of status) await send('logistics/locker/2/event', s);
      };
      await syncBatch();
      for (let i = 0; i < 10; i++) await send('logistics/platform/hub/event', { event: 'arrived', waybill: `JD10000000000${i}`, carrier: 'JD', ts: iso8(now - 30_000 + i) });
      for (let i = 0; i < 10; i++) await send('logistics/locker/2/event', { event: 'status', occupied: 20 + i, total: 40, ts: now - 30_000 + i });
      const afterSync = counts();
      await syncBatch();
      expect(counts()).toEqual(afterSync);

      const api = gw.api as NonNullable<Gateway['api']>;
      const text = (await api.inject({ method: 'GET', url: '/metrics' })).body;
      const metric = (labels: string) => Number(new RegExp(`^fcgw_ingest_duplicates_total\\{${labels}\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      expect(metric('kind="message"')).toBe(2);
      expect(metric('kind="event"')).toBe(12);
      // Each status message gives compartments_occupied and compartments_total.
      expect(metric('kind="sample"')).toBe(24);
      expect(text).not.toMatch(/^fcgw_ingest_rejections_total\{/m);
      // The copies are not counted as ingested again.
      expect(text).toMatch(/^fcgw_ingest_events_total\{class="parcel_locker",type="parcel_delivered"\} 12$/m);
      const health = (await api.inject({ method: 'GET', url: '/api/health' })).json() as { drivers: DriverHealth[] };
      const mqttHealth = health.drivers.find((d) => d.connection === 'community-mqtt');
      expect(mqttHealth?.counters).toMatchObject({ duplicates: 2, rejected: 0 });
    } finally {
      await pub.endAsync();
      await gw.stop();
      t.cleanup();
    }
  }, 30_000);
});
