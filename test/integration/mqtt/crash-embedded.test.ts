import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { MqttPublisher } from '../../../simulators/servers/mqtt-publisher.js';
import { freePort, tempDir, waitFor, killAndWait } from '../../helpers/peers.js';

/**
 * The demo's own path: devices publish to the gateway's embedded broker, which commits a QoS 1
 * message before its PUBACK. The gateway process (broker and all) is killed with SIGKILL twice
 * while the simulator's publisher sends N messages; the publisher resends what was never
 * acknowledged once the broker is back. Afterwards the store holds exactly the N readings.
 */
const N = 6_000;
const T0 = 1_732_250_000_000;

function values(db: string): number[] {
  try {
    const d = new Database(db, { readonly: true, fileMustExist: true });
    try {
      return (d.prepare('SELECT value FROM samples ORDER BY ts').all() as { value: number }[]).map((r) => r.value);
    } finally {
      d.close();
    }
  } catch {
    return [];
  }
}

describe('MQTT crash safety on the embedded broker (real gateway process)', () => {
  it(`keeps exactly ${N} readings across two SIGKILLs`, async () => {
    const t = tempDir('fcgw-mqtt-crash-emb-');
    const db = join(t.dir, 'gw.db');
    const cfg = join(t.dir, 'gw.yaml');
    const [apiPort, mqttPort] = [await freePort(), await freePort()];
    writeFileSync(
      cfg,
      `version: 1
site: { id: crash-embedded }
store: { path: ${db} }
api: { host: 127.0.0.1, port: ${apiPort} }
broker: { embedded: { host: 127.0.0.1, port: ${mqttPort} } }
logging: { level: warn }
connections: [{ id: local, protocol: mqtt, url: embedded }]
devices: [{ id: wm-1, class: water_meter, connection: local, profile: generic-json }]
`,
    );
    const up = async () => {
      try {
        return (await fetch(`http://127.0.0.1:${apiPort}/api/health`)).ok;
      } catch {
        return false;
      }
    };
    const children: ChildProcess[] = [];
    const gateway = async () => {
      const p = spawn(process.execPath, ['bin/fcgw.js', 'start', '-c', cfg], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, FCGW_SITE_SECRET: 'e'.repeat(32) } });
      children.push(p);
      await waitFor(up, 20_000, 50);
      return p;
    };
    const kill = killAndWait;
    const pub = new MqttPublisher({ url: `mqtt://127.0.0.1:${mqttPort}`, clientId: 'wm-1-sim', log: pino({ level: 'silent' }) });
    try {
      let gw = await gateway();
      await pub.start();
      let sent = 0;
      const publishing = (async () => {
        while (sent < N) {
          for (let k = 0; k < 100 && sent < N; k++, sent++) pub.publish('devices/wm-1/up', JSON.stringify({ ts: T0 + sent * 1000, values: { volume_total: sent } }));
          await new Promise((r) => setTimeout(r, 10));
        }
      })();

      await waitFor(() => values(db).length >= N * 0.2, 20_000, 10);
      await kill(gw, 'SIGKILL');
      const afterFirst = values(db).length;
      gw = await gateway();
      await waitFor(() => values(db).length >= Math.max(afterFirst + 500, N * 0.5), 20_000, 10);
      await kill(gw, 'SIGKILL');
      gw = await gateway();
      await publishing;
      expect(await pub.drain(20_000)).toBe(true);
      await kill(gw, 'SIGTERM');

      expect(pub.stats.dropped).toBe(0);
      const stored = values(db);
      expect(stored.length).toBe(N);
      expect(stored).toEqual(Array.from({ length: N }, (_, i) => i));
    } finally {
      await pub.stop();
      for (const p of children) await kill(p, 'SIGKILL');
      t.cleanup();
    }
  }, 60_000);
});
