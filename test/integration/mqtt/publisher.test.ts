import mqtt from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqttPublisher } from '../../../simulators/servers/mqtt-publisher.js';
import { waitFor } from '../../helpers/peers.js';
import { startAedes } from './harness.js';

describe('simulator MQTT publisher', () => {
  let broker: Awaited<ReturnType<typeof startAedes>>;
  beforeAll(async () => {
    broker = await startAedes();
  });
  afterAll(async () => {
    await broker.stop();
  });

  it('loses nothing when its connection drops (the broker-restart fault): it resends what was not acknowledged', async () => {
    const sub = await mqtt.connectAsync(broker.url);
    await sub.subscribeAsync('sim/#', { qos: 1 });
    const seen = new Set<number>();
    sub.on('message', (_t, p) => seen.add(Number(p.toString())));
    const pub = new MqttPublisher({ url: broker.url, clientId: 'sim-restart', log: pino({ level: 'silent' }) });
    await pub.start();
    for (let i = 0; i < 3000; i++) {
      pub.publish('sim/x', String(i));
      if (i === 1000 || i === 2000) pub.restart();
    }
    expect(await pub.drain(15_000)).toBe(true);
    await waitFor(() => seen.size === 3000, 10_000);
    expect(pub.stats).toMatchObject({ published: 3000, acked: 3000, restarts: 2, dropped: 0 });
    await pub.stop();
    await sub.endAsync();
  });
});
