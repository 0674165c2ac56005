import mqtt from 'mqtt';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../gateway/app.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { Store } from '../../../gateway/store/store.js';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { rawSeries } from '../../../gateway/store/queries.js';

/**
 * A device keeps publishing (QoS 1) to the embedded broker while the gateway stops. Every
 * message the broker acknowledged must be in the store: once the drivers are gone, publishes
 * wait unacknowledged and are refused when the broker closes, so the device sends them again.
 * An mqtt sink on the same broker still flushes (its own publishes are not held).
 */
const cleanup = cleanupsAfterEach();

describe('stopping with devices still publishing', () => {
  it('acknowledges nothing it has not stored, and the sink still flushes', async () => {
    const t = tempDir('fcgw-stopwin-');
    cleanup(t.cleanup);
    const port = await freePort();
    const db = join(t.dir, 'gw.db');
    const config = parseConfig(
      `version: 1
site: { id: stopwin }
store: { path: ${db} }
broker: { embedded: { host: 127.0.0.1, port: ${port} } }
api: { host: 127.0.0.1, port: 0 }
connections: [{ id: local, protocol: mqtt, url: embedded }]
devices: [{ id: meter-1, class: grid_meter, connection: local, profile: generic-json }]
sinks: [{ id: north, type: mqtt, connection: local, topic_prefix: "fc/{site}", flush_interval: 20ms }]
`,
      'stopwin.yaml',
      {},
    );
    const gw = Gateway.create({ config, log: createLogger({ level: 'silent' }), processMetrics: false, env: { FCGW_SITE_SECRET: 's'.repeat(32) }, sinkFlushMs: 3_000 });
    await gw.start();
    cleanup(() => gw.stop());

    // Several devices, each publishing as fast as its acknowledgements come back.
    const acked = new Set<number>();
    const t0 = Date.now();
    let running = true;
    const clients: mqtt.MqttClient[] = [];
    const device = async (k: number) => {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: `dev-${k}` });
      clients.push(c);
      c.on('error', () => undefined);
      for (let i = 0; running && i < 20_000; i++) {
        const ts = t0 + k * 100_000 + i;
        try {
          await c.publishAsync('devices/meter-1/up', JSON.stringify({ ts, values: { power: i } }), { qos: 1 });
          acked.add(ts);
        } catch {
          break;
        }
      }
      c.end(true);
    };
    const devices = Promise.all([0, 1, 2, 3].map(device));
    await waitFor(() => acked.size > 500, 10_000);
    await gw.stop();
    running = false;
    // Stopped means closed: the checkpoint thread's connection went first, and the store's last
    // close folded the WAL in and removed it (nothing changes on disk after stop returns).
    expect(existsSync(`${db}-wal`)).toBe(false);
    // A publish the broker never answered stays pending in its client: end them, and count only
    // what was acknowledged.
    for (const c of clients) c.end(true);
    await Promise.race([devices, new Promise((r) => setTimeout(r, 2_000))]);

    const store = Store.open({ path: db, site: 'stopwin' });
    try {
      const stored = new Set(
        rawSeries(store, 'meter-1', 'power', 0, Number.MAX_SAFE_INTEGER).map(([ts]) => ts),
      );
      const lost = [...acked].filter((ts) => !stored.has(ts));
      expect(lost).toEqual([]);
      // The sink sent everything before the broker closed: its cursor is at the end of the log.
      expect(store.getCursor('sink:north')?.samples).toBe(store.maxSeq().samples);
    } finally {
      store.close();
    }
  }, 30_000);
});
