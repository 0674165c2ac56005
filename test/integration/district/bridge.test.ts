import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import type { RunningGateway } from '../../helpers/gateway-process.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { MOSQUITTO, startMosquitto, type Mosquitto } from '../mqtt/mosquitto.js';
import { hourOf, startCommunity, stopCommunity } from './fleet.js';

/**
 * #17's bridge: two community gateways publish northbound (samples, events, KPIs, site identity)
 * to the community's Mosquitto, bridged with deploy/district/mosquitto-bridge.conf to a district
 * Mosquitto through a TCP link the test cuts for 12 s (12 simulated minutes at 60×; the bridge's
 * timers shortened by config). Everything the community broker received reaches the district:
 * nothing is lost, the KPI values included.
 */
const ROOT = join(import.meta.dirname, '../../..');
const CUT_MS = 12_000;

/** A WAN link that can be cut: a TCP proxy that drops every connection and refuses new ones while cut. */
async function wanLink(target: number): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const up = tcpConnect(target, '127.0.0.1');
        for (const s of [client, up]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => undefined);
        }
        client.pipe(up).pipe(client);
      });
      server.listen(port, '127.0.0.1', resolve);
    });
  const cut = async () => {
    const s = server;
    server = undefined;
    for (const x of sockets) x.destroy();
    if (s) await new Promise((r) => s.close(r));
  };
  await listen();
  return { port, cut, restore: listen, close: cut };
}

/** deploy/district/mosquitto-bridge.conf as the test runs it: the district's address, no TLS, timers shortened. */
function bridgeLines(port: number): string[] {
  return readFileSync(join(ROOT, 'deploy/district/mosquitto-bridge.conf'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#') && !/^(bridge_cafile|remote_username|remote_password)\b/.test(l))
    .map((l) => (l.startsWith('address ') ? `address 127.0.0.1:${port}` : l))
    .map((l) => (l.startsWith('restart_timeout ') ? 'restart_timeout 1 1' : l.startsWith('keepalive_interval ') ? 'keepalive_interval 5' : l));
}

function collector(url: string, clientId: string): { client: MqttClient; seen: Map<string, number>; ready: Promise<void> } {
  const seen = new Map<string, number>();
  const client = connect(url, { clientId, clean: false, reconnectPeriod: 200 });
  client.on('message', (topic, payload) => {
    const k = `${topic} ${payload.toString()}`;
    seen.set(k, (seen.get(k) ?? 0) + 1);
  });
  const ready = new Promise<void>((resolve, reject) => {
    client.once('connect', () => client.subscribe('fc/#', { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  });
  return { client, seen, ready };
}

describe.skipIf(!MOSQUITTO)('two gateways bridged to the district broker', () => {
  const tmp = tempDir('fcgw-district-bridge-');
  let community: Mosquitto;
  let district: Mosquitto;
  let link: Awaited<ReturnType<typeof wanLink>>;
  const gateways: RunningGateway[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    for (const d of ['district', 'community']) mkdirSync(join(tmp.dir, d));
    district = await startMosquitto({ dir: join(tmp.dir, 'district') });
    link = await wanLink(district.port);
    community = await startMosquitto({ dir: join(tmp.dir, 'community'), extra: bridgeLines(link.port) });
  }, 30_000);
  afterAll(async () => {
    await Promise.all(gateways.map(stopCommunity));
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await link?.close();
    await community?.stop();
    await district?.stop();
    tmp.cleanup();
  }, 60_000);

  it('a WAN cut of the bridge loses nothing', async () => {
    const local = collector(community.url, 'edge-watch');
    const remote = collector(district.url, 'district-watch');
    clients.push(local.client, remote.client);
    await Promise.all([local.ready, remote.ready]);

    const start = hourOf(Date.now()) - 6 * 3_600_000 - 5 * 60_000;
    const connections = [{ id: 'district-mqtt', protocol: 'mqtt', url: community.url, client_id: 'x' }];
    for (const [i, site] of ['b01', 'b02'].entries()) {
      const sink = { id: 'north', type: 'mqtt', connection: 'district-mqtt', qos: 1, flush_interval: '200ms' };
      connections[0] = { ...connections[0], client_id: `gw-${site}` } as (typeof connections)[0];
      gateways.push(await startCommunity({ dir: join(tmp.dir, site), site, district: 'xihu', seed: 7 + i, start, speed: 60, sinks: [sink], connections: [...connections], northbound: { running_every: '1m', closed_after: '2m' } }));
    }
    await waitFor(() => [...remote.seen.keys()].some((k) => k.startsWith('fc/b02/kpi/')), 30_000, 100);

    await link.cut();
    const atCut = local.seen.size;
    await new Promise((r) => setTimeout(r, CUT_MS));
    const duringCut = local.seen.size - atCut;
    await link.restore();

    for (const g of gateways) expect(g.proc.exitCode, g.stderr()).toBeNull();
    // Both gateways stop; then everything the community broker got must be at the district.
    await Promise.all(gateways.splice(0).map(stopCommunity));
    const missing = () => [...local.seen.keys()].filter((k) => !remote.seen.has(k));
    await waitFor(() => (missing().length === 0 ? true : undefined), 30_000, 200).catch(() => undefined);

    expect(duringCut).toBeGreaterThan(500);
    expect(missing().slice(0, 5)).toEqual([]);
    const topics = [...remote.seen.keys()].map((k) => k.split(' ')[0] as string);
    for (const site of ['b01', 'b02']) {
      expect(topics).toContain(`fc/${site}/site`);
      expect(topics.some((t) => t.startsWith(`fc/${site}/kpi/pv_generation/hour/site/`)), site).toBe(true);
      expect(topics.some((t) => t.startsWith(`fc/${site}/pv_inverter/`)), site).toBe(true);
    }
  }, 120_000);
});
