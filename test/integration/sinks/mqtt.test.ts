import mqtt from 'mqtt';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { MOSQUITTO, startMosquitto, type Mosquitto } from '../mqtt/mosquitto.js';
import { configWith, dayStart, drained, memoryLog, startSinks, writeDay } from './fixtures.js';

interface Received {
  topic: string;
  body: { ts: number; value?: unknown; quality?: string; reason?: string; device?: string; attributes?: unknown; backfill?: boolean };
  retain: boolean;
}

/** Collect what a subscriber gets; a persistent session also gets what was queued while it was away. */
async function subscriber(url: string, filter: string, clientId: string, clean: boolean) {
  const got: Received[] = [];
  const c = await mqtt.connectAsync(url, { clientId, clean, reconnectPeriod: 100 });
  c.on('message', (topic, payload, packet) => got.push({ topic, body: JSON.parse(payload.toString()) as Received['body'], retain: packet.retain }));
  await c.subscribeAsync(filter, { qos: 1 });
  return { got, end: () => c.endAsync() };
}

/**
 * The mqtt northbound sink through a real Mosquitto: spec topics and payloads at QoS 1, the
 * retained message of each series is its newest value (a backfilled older sample does not
 * replace it), and a broker restart mid-stream loses nothing.
 */
describe.skipIf(!MOSQUITTO)('mqtt northbound sink → Mosquitto', () => {
  const tmp = tempDir('fcgw-sink-mqtt-');
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto({ dir: tmp.dir });
  });
  afterAll(async () => {
    await broker?.stop();
    tmp.cleanup();
  });

  it('publishes every sample and event once per key, retains the newest value, rides out a broker restart', async () => {
    const store = Store.open({ path: join(tmp.dir, 'north.db'), site: 'north-site' });
    const start = dayStart();
    writeDay(store, { site: 'north-site', start, devices: 1, stepMs: 3_600_000, to: 0.5 });
    const live = await subscriber(broker.url, 'fc/north-site/#', 'north-consumer', false);

    const { log } = memoryLog();
    const config = configWith('north-site', [{ id: 'north', type: 'mqtt', connection: 'up', retain: true, flush_interval: '20ms', backoff_max: '200ms', timeout: '2s', start_from: 'earliest' }], {
      connections: [{ id: 'up', protocol: 'mqtt', url: broker.url, client_id: 'fcgw-north', reconnect_min: '100ms' }],
    });
    const { sinks } = startSinks(config, store, log);
    await sinks.start();
    await waitFor(() => drained(store, 'sink:north'), 10_000);
    const firstHalf = store.maxSeq();
    await waitFor(() => live.got.length >= firstHalf.samples + firstHalf.events, 5_000);

    const first = live.got[0];
    expect(first?.topic).toBe('fc/north-site/pv_inverter/pv-1/ac_power');
    expect(first?.body).toEqual({ ts: start, value: 0, quality: 'good' });
    const uncertain = live.got.find((m) => m.body.quality === 'uncertain');
    expect(uncertain?.topic).toBe('fc/north-site/battery/bat-1/soc');
    expect(uncertain?.body.reason).toBe('out_of_range');
    const event = live.got.find((m) => m.topic === 'fc/north-site/events/vehicle_entry');
    expect(event?.body).toMatchObject({ ts: start, device: 'gate-1', class: 'parking_garage', attributes: { gate: 'north gate' } });

    // The broker goes away mid-stream and comes back: the sink waits, then sends what was committed meanwhile.
    await broker.stop();
    writeDay(store, { site: 'north-site', start, devices: 1, stepMs: 3_600_000, from: 0.5, to: 1 });
    sinks.notify();
    await waitFor(() => sinks.health()[0]?.state === 'waiting' || sinks.health()[0]?.state === 'backoff', 5_000);
    expect(store.getCursor('sink:north')).toEqual(firstHalf);
    await broker.start();
    await waitFor(() => drained(store, 'sink:north'), 10_000);

    // Live data in time order is not marked; a backfilled sample older than the retained one is
    // published with its own time, marked as a backfill, but not retained; so is a late event.
    expect(live.got.filter((m) => m.body.backfill !== undefined)).toEqual([]);
    const newest = store.samplesAfter(0, 100_000).filter((s) => s.device === 'pv-1' && s.metric === 'ac_power').at(-1);
    store.write(
      [{ site: 'north-site', device: 'pv-1', class: 'pv_inverter', metric: 'ac_power', ts: start - 60_000, value: 999, quality: 'good' }],
      [{ site: 'north-site', device: 'gate-1', class: 'parking_garage', type: 'vehicle_entry', ts: start - 60_000, attributes: { gate: 'north gate', vehicle: 'p_late' } }],
    );
    sinks.notify();
    await waitFor(() => drained(store, 'sink:north'), 5_000);
    const max = store.maxSeq();
    await waitFor(() => new Set(live.got.map((m) => `${m.topic}@${m.body.ts}`)).size >= max.samples + max.events, 5_000);
    await live.end();
    await sinks.stop();
    const backfilled = live.got.filter((m) => m.body.backfill === true);
    expect(backfilled.map((m) => [m.topic, m.body.ts])).toEqual([
      ['fc/north-site/pv_inverter/pv-1/ac_power', start - 60_000],
      ['fc/north-site/events/vehicle_entry', start - 60_000],
    ]);
    expect(backfilled[0]?.retain).toBe(false);

    // Every record arrived; a key twice would only be a QoS 1 redelivery of the same value.
    const keys = new Map<string, unknown>();
    for (const m of live.got) {
      const k = `${m.topic}@${m.body.ts}`;
      if (keys.has(k)) expect(JSON.stringify(m.body)).toBe(keys.get(k));
      keys.set(k, JSON.stringify(m.body));
    }
    expect(keys.size).toBe(max.samples + max.events);

    const late = await subscriber(broker.url, 'fc/north-site/pv_inverter/pv-1/+', 'late-reader', true);
    await waitFor(() => late.got.length >= 3, 3_000);
    await late.end();
    const retained = late.got.find((m) => m.topic.endsWith('/ac_power'));
    expect(retained?.retain).toBe(true);
    expect(retained?.body).toEqual({ ts: newest?.ts, value: newest?.value, quality: 'good' });
    store.close();
  });

  it('with nothing to send, says waiting until its link is up, and while it is down (not ok)', async () => {
    const store = Store.open({ path: join(tmp.dir, 'idle.db'), site: 'idle-site' });
    const { log } = memoryLog();
    const sinkCfg = { id: 'idle', type: 'mqtt', connection: 'up', flush_interval: '20ms', start_from: 'now' };
    const config = configWith('idle-site', [sinkCfg], { connections: [{ id: 'up', protocol: 'mqtt', url: broker.url, client_id: 'fcgw-idle', reconnect_min: '100ms' }] });
    const { sinks } = startSinks(config, store, log);
    await sinks.start();
    // The client is still connecting (before this fix an idle fresh sink read ok, then waiting, then ok).
    expect(sinks.health()[0]?.state).toBe('waiting');
    await waitFor(() => sinks.health()[0]?.state === 'ok', 5_000);
    await sinks.stop();

    // A broker that is not there: an idle sink is not ok either.
    const nowhere = configWith('idle-site', [sinkCfg], { connections: [{ id: 'up', protocol: 'mqtt', url: 'mqtt://127.0.0.1:1', client_id: 'fcgw-idle', reconnect_min: '100ms' }] });
    const down = startSinks(nowhere, store, log).sinks;
    await down.start();
    await new Promise((r) => setTimeout(r, 400));
    expect(down.health()[0]?.state).toBe('waiting');
    await down.stop();
    store.close();
  });
});
