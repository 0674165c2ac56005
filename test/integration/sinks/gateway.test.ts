import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { Store } from '../../../gateway/store/store.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { SAMPLES_ONLY, startVictoriaMetrics, VICTORIA_METRICS, type VictoriaMetrics } from '../../helpers/servers.js';
import { dayStart, memoryLog, rounded, storeSeries, vmSeries, type SeriesStat } from './fixtures.js';

/**
 * The sinks as the running gateway wires them: devices publish to the embedded broker, the
 * gateway commits, and an influxdb2 sink (to a real VictoriaMetrics) and an mqtt northbound sink
 * (back to the embedded broker) deliver everything once. The server goes away mid-stream: the
 * backlog shows in /metrics and /api/health, then drains. The last messages are published just
 * before stop(): the shutdown flush sends them although no batch is full.
 */
describe.skipIf(!VICTORIA_METRICS)('sinks wired into the gateway', () => {
  const tmp = tempDir('fcgw-sink-gw-');
  let vm: VictoriaMetrics | undefined;
  let gw: Gateway | undefined;
  afterAll(async () => {
    await gw?.stop();
    await vm?.stop();
    tmp.cleanup();
  });

  it('delivers exactly once through an outage; health and /metrics show the sinks and their backlog', async () => {
    vm = await startVictoriaMetrics(tmp.dir);
    const path = join(tmp.dir, 'gateway.db');
    const config = parseConfig(
      JSON.stringify({
        version: 1,
        site: { id: 'gw-sinks' },
        store: { path },
        broker: { embedded: { host: '127.0.0.1', port: 0 } },
        api: { host: '127.0.0.1', port: 0 },
        connections: [{ id: 'local', protocol: 'mqtt', url: 'embedded' }],
        devices: [
          { id: 'meter-1', class: 'grid_meter', connection: 'local', profile: 'generic-json' },
          { id: 'meter-2', class: 'grid_meter', connection: 'local', profile: 'generic-json', tags: { building: '2' } },
          { id: 'gate-1', class: 'parking_garage', connection: 'local', profile: 'generic-json' },
        ],
        sinks: [
          // flush_interval 1s: the messages published right before stop() can only leave through the shutdown flush.
          { id: 'vm', type: 'influxdb2', url: vm.url, token: 't', org: 'fc', bucket: 'b', batch_size: 5000, flush_interval: '1s', backoff_max: '300ms', timeout: '2s', start_from: 'earliest' },
          { id: 'north', type: 'mqtt', connection: 'local', topic_prefix: 'fc/{site}', flush_interval: '1s', start_from: 'earliest' },
        ],
      }),
      'gateway-sinks.yaml',
      {},
    );
    const { log, lines } = memoryLog();
    gw = Gateway.create({ config, log, processMetrics: false, env: { FCGW_SITE_SECRET: 'test-secret-0123456789abcdef' } });
    await gw.start();
    const api = gw.apiUrl as string;
    const brokerUrl = gw.broker?.url as string;

    // A northbound consumer on the same broker, subscribed before anything is published.
    const north: { topic: string; ts: number; value: unknown; raw: string }[] = [];
    const sub = await mqtt.connectAsync(brokerUrl, { clientId: 'northbound-consumer' });
    sub.on('message', (topic, payload) => {
      // The KPI northbound export (kpi/… and site) is proven in sinks/kpi-export.test.ts.
      if (topic.startsWith('fc/gw-sinks/kpi/') || topic === 'fc/gw-sinks/site') return;
      const raw = payload.toString();
      const body = JSON.parse(raw) as { ts: number; value?: unknown };
      north.push({ topic, ts: body.ts, value: body.value, raw });
    });
    await sub.subscribeAsync('fc/gw-sinks/#', { qos: 1 });

    const dev = await mqtt.connectAsync(brokerUrl, { clientId: 'devices' });
    const t0 = dayStart();
    let minute = 0;
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++, minute++) {
        const ts = t0 + minute * 60_000;
        await Promise.all([
          dev.publishAsync('devices/meter-1/up', JSON.stringify({ ts, values: { power: 1000 + (minute % 97), import_total: 5_000_000 + minute * 20 } }), { qos: 1 }),
          dev.publishAsync('devices/meter-2/up', JSON.stringify({ ts, values: { power: -200 - (minute % 13) } }), { qos: 1 }),
          minute % 5 === 0
            ? dev.publishAsync('devices/gate-1/up', JSON.stringify({ ts, values: { spaces_free: 40 - (minute % 40) }, events: [{ type: 'vehicle_entry', attributes: { vehicle: `浙A${10000 + minute}`, gate: 'north' } }] }), { qos: 1 })
            : Promise.resolve(),
        ]);
      }
    };
    const metric = async (name: string, labels: string) => {
      const text = await (await fetch(`${api}/metrics`)).text();
      const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
      return m ? Number(m[1]) : NaN;
    };
    const health = async () => (await (await fetch(`${api}/api/health`)).json()) as { status: string; sinks: { id: string; state: string; backlog: number; backlogAge: number; lastError: string | null }[] };
    const drained = () => {
      const max = gw?.store.maxSeq();
      return ['sink:vm', 'sink:north'].every((c) => {
        const cur = gw?.store.getCursor(c);
        return cur && max && cur.samples >= max.samples && cur.events >= max.events;
      });
    };

    try {
      await publish(120);
      await waitFor(drained, 10_000);
      const ok = await health();
      expect(ok.status).toBe('ok');
      expect(ok.sinks.map((s) => [s.id, s.state, s.backlog])).toEqual([
        ['vm', 'ok', 0],
        ['north', 'ok', 0],
      ]);

      // The server goes away while devices keep publishing: the backlog grows where everyone can see it.
      await vm.stop();
      await publish(240);
      await waitFor(async () => (await health()).sinks[0]?.state === 'backoff', 5_000);
      await waitFor(async () => (await metric('fcgw_sink_backlog', 'sink="vm",log="samples"')) >= 240 * 3, 5_000);
      const during = await health();
      expect(during.status).toBe('degraded');
      expect(during.sinks[0]).toMatchObject({ id: 'vm', state: 'backoff' });
      expect(during.sinks[0]?.backlog).toBeGreaterThanOrEqual(240 * 3);
      expect(during.sinks[0]?.lastError).toMatch(/^SINK_(NETWORK|TIMEOUT)/);
      expect(during.sinks[1]).toMatchObject({ id: 'north', state: 'ok' });
      expect(await metric('fcgw_sink_backlog_age_seconds', 'sink="vm"')).toBeGreaterThan(0);
      expect(await metric('fcgw_sink_errors_total', 'sink="vm",code="SINK_NETWORK"')).toBeGreaterThan(0);

      await vm.start();
      await waitFor(drained, 10_000);
      await waitFor(async () => (await metric('fcgw_sink_backlog', 'sink="vm",log="samples"')) === 0, 3_000);
      expect(await metric('fcgw_sink_backlog_age_seconds', 'sink="vm"')).toBe(0);

      // Published (and so committed) just before the shutdown, less than a batch and a flush interval.
      await publish(30);
      const before = gw.store.maxSeq();
      expect(gw.store.getCursor('sink:vm')?.samples).toBeLessThan(before.samples);
      await gw.stop();
    } finally {
      await dev.endAsync();
    }
    expect(lines().some((l) => l['msg'] === 'sinks flushed')).toBe(true);

    const store = Store.open({ path, site: 'gw-sinks' });
    try {
      // Everything committed was acknowledged by both sinks before the process would have exited.
      expect(store.getCursor('sink:vm')).toEqual(store.maxSeq());
      expect(store.getCursor('sink:north')).toEqual(store.maxSeq());
      const expected = storeSeries(store);
      expect(expected.get('grid_meter_power|meter-1')?.count).toBe(390);
      expect(expected.get('parking_garage_vehicle_entry|gate-1')?.count).toBe(78);

      await vm.flush();
      expect(rounded(vmSeries(await vm.exportSeries(`{site="gw-sinks",${SAMPLES_ONLY}}`)))).toEqual(rounded(expected));

      // Northbound: every sample and event once (QoS 1, no duplicate), on its spec topic.
      await waitFor(() => north.length >= store.maxSeq().samples + store.maxSeq().events, 5_000);
      await sub.endAsync();
      const seen = new Set(north.map((m) => `${m.topic}@${m.ts}`));
      expect(seen.size).toBe(north.length);
      const got = new Map<string, SeriesStat>();
      for (const m of north) {
        const [, , cls, device, metric] = m.topic.split('/') as string[];
        const key = cls === 'events' ? `parking_garage_${device}|gate-1` : `${cls}_${metric}|${device}`;
        const prev = got.get(key) ?? { count: 0, sum: 0 };
        got.set(key, { count: prev.count + 1, sum: prev.sum + (typeof m.value === 'number' ? m.value : cls === 'events' ? 1 : 0) });
      }
      expect(rounded(got)).toEqual(rounded(expected));
      // Personal data leaves pseudonymised, never as the plate.
      const entries = north.filter((m) => m.topic === 'fc/gw-sinks/events/vehicle_entry');
      expect(entries.length).toBe(78);
      expect(entries.some((m) => m.raw.includes('浙A'))).toBe(false);
    } finally {
      store.close();
    }
  }, 30_000);
});
