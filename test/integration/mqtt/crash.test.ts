import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { freePort, tempDir, waitFor, killAndWait } from '../../helpers/peers.js';
import { MOSQUITTO, startMosquitto } from './mosquitto.js';

/**
 * A real gateway process (`node bin/fcgw.js start`) reads a device through Mosquitto while a
 * publisher sends N QoS 1 messages; the gateway is killed with SIGKILL twice. A message is
 * acknowledged only once committed, so Mosquitto (persistent session, max_queued_messages raised)
 * delivers whatever was not: after the last restart the store holds exactly the N readings.
 */
const N = 12_000;
const T0 = 1_732_250_000_000;

function count(db: string): number {
  try {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare('SELECT count(*) AS n FROM samples').get() as { n: number }).n;
    } finally {
      d.close();
    }
  } catch {
    return 0;
  }
}

describe.skipIf(!MOSQUITTO)('MQTT crash safety (real gateway process, real Mosquitto)', () => {
  it(`keeps exactly ${N} readings across two SIGKILLs`, async () => {
    const t = tempDir('fcgw-mqtt-crash-');
    const m = await startMosquitto({ dir: t.dir });
    const db = join(t.dir, 'gw.db');
    const cfg = join(t.dir, 'gw.yaml');
    const apiPort = await freePort();
    const connected = async () => {
      try {
        const h = (await (await fetch(`http://127.0.0.1:${apiPort}/api/health`)).json()) as { drivers: { state: string }[] };
        return h.drivers[0]?.state === 'connected';
      } catch {
        return false;
      }
    };
    writeFileSync(
      cfg,
      `version: 1
site: { id: crash }
store: { path: ${db} }
api: { host: 127.0.0.1, port: ${apiPort} }
logging: { level: warn }
connections: [{ id: ext, protocol: mqtt, url: "${m.url}", client_id: fcgw-crash, clean: false, reconnect_min: 100ms, reconnect_max: 1s }]
devices: [{ id: wm-1, class: water_meter, connection: ext, profile: generic-json }]
`,
    );
    const children: ChildProcess[] = [];
    const gateway = () => {
      const p = spawn(process.execPath, ['bin/fcgw.js', 'start', '-c', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FCGW_SITE_SECRET: 'c'.repeat(32) } });
      children.push(p);
      return p;
    };
    const kill = killAndWait;
    try {
      // The gateway's session must exist before the publisher starts, so the broker queues for it.
      let gw = gateway();
      await waitFor(connected, 20_000, 100);
      const seed = await mqtt.connectAsync(m.url);
      await seed.publishAsync('devices/wm-1/up', JSON.stringify({ ts: T0, values: { volume_total: 0 } }), { qos: 1 });
      await waitFor(() => count(db) === 1, 15_000);

      const pub = await mqtt.connectAsync(m.url, { clientId: 'crash-publisher', clean: false });
      let sent = 1;
      const publishing = (async () => {
        while (sent < N) {
          const batch: Promise<unknown>[] = [];
          for (let k = 0; k < 200 && sent < N; k++, sent++) batch.push(pub.publishAsync('devices/wm-1/up', JSON.stringify({ ts: T0 + sent * 1000, values: { volume_total: sent } }), { qos: 1 }));
          await Promise.all(batch);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      await waitFor(() => count(db) >= N * 0.2, 20_000, 10);
      await kill(gw, 'SIGKILL');
      const afterFirst = count(db);
      gw = gateway();
      await waitFor(() => count(db) >= Math.max(afterFirst + 1000, N * 0.5), 20_000, 10);
      await kill(gw, 'SIGKILL');
      gw = gateway();
      await publishing;
      await waitFor(() => count(db) >= N, 30_000, 50);
      await kill(gw, 'SIGTERM');
      await seed.endAsync();
      await pub.endAsync();

      const d = new Database(db, { readonly: true });
      const values = (d.prepare('SELECT value FROM samples ORDER BY ts').all() as { value: number }[]).map((r) => r.value);
      d.close();
      expect(values.length).toBe(N);
      expect(values).toEqual(Array.from({ length: N }, (_, i) => i));
    } finally {
      for (const p of children) await kill(p, 'SIGKILL');
      await m.stop();
      t.cleanup();
    }
  }, 90_000);
});
