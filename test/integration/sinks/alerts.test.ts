import mqtt from 'mqtt';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { memoryLog } from './fixtures.js';

/**
 * KPI alerts leave where the northbound MQTT data leaves: on every mqtt sink, at
 * `{topic_prefix}/alerts`; only without an mqtt sink do they go to the embedded broker's
 * fc/{site}/alerts (spec/interfaces.md).
 */
describe('KPI alerts on the northbound MQTT sink', () => {
  const tmp = tempDir('fcgw-alerts-');
  const gws: Gateway[] = [];
  afterAll(async () => {
    for (const g of gws) await g.stop();
    tmp.cleanup();
  });

  const start = async (name: string, sinks: unknown[]) => {
    const config = parseConfig(
      JSON.stringify({
        version: 1,
        site: { id: name, timezone: 'Asia/Shanghai' },
        store: { path: join(tmp.dir, `${name}.db`) },
        broker: { embedded: { host: '127.0.0.1', port: 0 } },
        api: { host: '127.0.0.1', port: 0 },
        connections: [{ id: 'local', protocol: 'mqtt', url: 'embedded' }],
        devices: [{ id: 'door-d01', class: 'access_door', connection: 'local', profile: 'access-controller', topic: 'access/ctl-1/door/d01/event' }],
        // One forced door misses "no door forced today". Judged from the day's first minute
        // (min_elapsed 0): by default a day is judged once a quarter of it has passed, and this
        // test runs at any hour (it failed between 00:00 and 06:00 Asia/Shanghai).
        targets: [{ kpi: 'door_forced_count', window: 'day', max: 0, min_coverage: 0, min_elapsed: 0 }],
        kpi: { evaluate_every: '200ms' },
        sinks,
      }),
      `${name}.yaml`,
      {},
    );
    const gw = Gateway.create({ config, log: memoryLog().log, processMetrics: false, env: { FCGW_SITE_SECRET: 'test-secret-0123456789abcdef' } });
    gws.push(gw);
    // Subscribe before the first evaluation can run: the broker starts inside start().
    await gw.start();
    const client = await mqtt.connectAsync(gw.broker?.url as string, { reconnectPeriod: 0 });
    const got: { topic: string; body: Record<string, unknown> }[] = [];
    client.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
    await client.subscribeAsync(['district/#', 'fc/+/alerts'], { qos: 1 });
    const now = Math.floor(Date.now() / 1000);
    await client.publishAsync('access/ctl-1/door/d01/event', JSON.stringify({ type: 'WARN', src: 'door', desc: 'Door Forced Open', time: now }), { qos: 1 });
    return { gw, client, got };
  };

  it('publishes on the sink’s prefix, not also on fc/{site}/alerts', async () => {
    const { client, got } = await start('east', [{ id: 'north', type: 'mqtt', connection: 'local', topic_prefix: 'district/{site}' }]);
    const alert = await waitFor(() => got.find((m) => m.topic === 'district/east/alerts'), 10_000);
    // The sink forwarded the event itself too, on the same prefix.
    await waitFor(() => got.some((m) => m.topic === 'district/east/events/door_forced'), 10_000);
    expect(alert.body).toMatchObject({ kpi: 'door_forced_count', status: 'missed', value: 1 });
    expect(typeof alert.body['ts']).toBe('number');
    await new Promise((r) => setTimeout(r, 400));
    expect(got.filter((m) => m.topic.endsWith('/alerts')).map((m) => m.topic)).not.toContain('fc/east/alerts');
    await client.endAsync();
  });

  it('without an mqtt sink, publishes on the embedded broker at fc/{site}/alerts', async () => {
    const { client, got } = await start('west', []);
    const alert = await waitFor(() => got.find((m) => m.topic === 'fc/west/alerts'), 10_000);
    expect(alert.body).toMatchObject({ kpi: 'door_forced_count', status: 'missed', value: 1 });
    await client.endAsync();
  });
});
