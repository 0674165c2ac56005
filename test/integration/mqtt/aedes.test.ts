import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/peers.js';
import { collector, config, driverFor, startAedes } from './harness.js';

describe('MQTT driver against a real aedes broker', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('ingests generic JSON from a configured device and acknowledges after commit', async () => {
    const c = collector({ commitDelayMs: 5 });
    const cfg = config(`
connections: [{ id: local, protocol: mqtt, url: "${broker.url}" }]
devices: [{ id: space-1, class: parking_space, connection: local, profile: generic-json }]
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    expect(driver.health().state).toBe('connected');
    const pub = await mqtt.connectAsync(broker.url);
    await pub.publishAsync('devices/space-1/up', JSON.stringify({ ts: 1_732_250_000_000, values: { occupied: true } }), { qos: 1 });
    await pub.publishAsync('devices/space-1/up', JSON.stringify({ ts: 1_732_250_060_000, values: { occupied: 'yes' } }), { qos: 1 });
    await pub.publishAsync('devices/space-1/up', '{not json', { qos: 1 });
    await waitFor(() => c.rejections.length >= 2);
    expect(c.readings).toEqual([{ device: 'space-1', metric: 'occupied', value: true, ts: 1_732_250_000_000 }]);
    expect(c.rejections.map((r) => r.reason)).toEqual(['wrong_type', 'malformed_json']);
    await pub.endAsync();
    await driver.stop();
    await driver.stop();
    expect(driver.health().state).toBe('stopped');
  });

  it('discovers ChirpStack devices and builds ids from payload fields', async () => {
    const c = collector();
    const cfg = config(`
connections: [{ id: lora, protocol: mqtt, url: "${broker.url}" }]
discover:
  - { connection: lora, topic: "application/{app}/device/+/event/up", envelope: chirpstack, profile: parking-sensor, class: parking_space, id: "space-{devEui}", tags: { app: "{app}", zone: "{tags.zone}" } }
`);
    const driver = driverFor(cfg, c.ctx);
    await driver.start();
    const pub = await mqtt.connectAsync(broker.url);
    const up = {
      time: '2024-11-22T04:33:20Z',
      deviceInfo: { applicationId: 'p1', devEui: '0102030405060708', deviceName: 'P-001', tags: { zone: 'b2' } },
      fPort: 1,
      fCnt: 7,
      data: Buffer.from([1]).toString('base64'),
    };
    await pub.publishAsync('application/p1/device/0102030405060708/event/up', JSON.stringify(up), { qos: 1 });
    await waitFor(() => c.readings.length === 1 || c.rejections.length > 0);
    expect(c.rejections).toEqual([]);
    expect(c.readings[0]).toEqual({ device: 'space-0102030405060708', metric: 'occupied', value: true, ts: Date.parse('2024-11-22T04:33:20Z') });
    expect(c.added).toEqual(['space-0102030405060708']);
    await pub.endAsync();
    await driver.stop();
  });
});
