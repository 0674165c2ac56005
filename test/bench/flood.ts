// Bench: a bounded flood from loopback against a real `fcgw start` process configured with API
// tokens and broker users, as an attacker on the community LAN would try it, all at once:
//   1,000 unauthenticated MQTT connects (half never send CONNECT, half send one without a user),
//   100 parallel bad logins (a real user, wrong passwords, reconnecting for the whole phase),
//   200 slow-header HTTP sockets (one header byte every few seconds),
//   1,000 /api/live streams that never read,
//   4 × 250 MB pre-CONNECT packets (a fixed header declaring ~250 MB, then zeros pumped with
//   backpressure, never 250 MB in the sender's memory; each stops when the socket closes),
// while a QoS 1 device publishes throughout and an authorised client polls /api/health.
// Records /api/health latency p50/p99 (idle and under flood), the gateway's RSS before/peak/
// after (from /proc/<pid>/status), and the device's acknowledged messages against those stored.
// Every phase has a deadline, so it finishes on any gateway.
// Writes test/bench/results/flood.json.
//   node --import tsx test/bench/flood.ts      (FLOOD_SECONDS=30 by default)
import Database from 'better-sqlite3';
import { mkdirSync, writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { hashPassword } from '../../gateway/broker/passwords.js';
import { badLogins, hugePreConnect, percentile, rssMb, sleep, slowHeaders, unauthenticatedConnects, unreadLiveStreams, type Target } from '../helpers/flood-attacks.js';
import { startGatewayProcess, type RunningGateway } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/peers.js';
import { startEnv } from '../helpers/start-env.js';

const FLOOD_MS = Number(process.env['FLOOD_SECONDS'] ?? 30) * 1000;
const IDLE_MS = 5_000;
const RECOVER_MS = 10_000;
const TOKEN = 'flood-bench-token-0123456789abcdef';
const DEVICE = { username: 'meter-1', password: 'meter-1-good-password' };

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const tmp = tempDir('fcgw-flood-');
  const db = join(tmp.dir, 'gw.db');
  const cfgFile = join(tmp.dir, 'gw.yaml');
  writeFileSync(
    cfgFile,
    `version: 1
site: { id: flood }
store: { path: ${db} }
api: { host: 127.0.0.1, port: 0, tokens: [${TOKEN}] }
broker:
  embedded:
    host: 127.0.0.1
    port: 0
    users:
      - { username: ${DEVICE.username}, password_hash: "${hashPassword(DEVICE.password)}", publish: ["devices/${DEVICE.username}/up"], subscribe: [] }
      - { username: ops, password_hash: "${hashPassword('ops-password-not-used')}", publish: [], subscribe: ["devices/#"] }
connections: [{ id: local, protocol: mqtt, url: embedded }]
devices: [{ id: ${DEVICE.username}, class: grid_meter, connection: local, profile: generic-json }]
logging: { level: warn, pretty: false }
`,
  );
  let gw: RunningGateway | undefined;
  const sockets = new Set<Socket>();
  const timers: NodeJS.Timeout[] = [];
  try {
    // As deployed (npm start, the Docker image): glibc's arenas tuned so that freed scrypt buffers
    // are returned. FLOOD_MALLOC=default runs the same flood with glibc's defaults.
    const malloc = process.env['FLOOD_MALLOC'] === 'default' ? {} : startEnv();
    gw = await startGatewayProcess(cfgFile, malloc, 60_000);
    const pid = gw.proc.pid as number;
    const apiUrl = gw.apiUrl;
    const apiPort = Number(new URL(apiUrl).port);
    const auth = { authorization: `Bearer ${TOKEN}` };
    const health0 = (await (await fetch(`${apiUrl}/api/health`, { headers: auth })).json()) as { broker?: { url: string } };
    const brokerUrl = health0.broker?.url as string;
    const brokerPort = Number(new URL(brokerUrl).port);
    console.log(`gateway pid ${pid}, api ${apiUrl}, broker ${brokerUrl}`);

    // --- the device (QoS 1 throughout) and the authorised health poller --------------------
    const acked = new Set<number>();
    let devErrors = 0;
    let devSent = 0;
    const device = await mqtt.connectAsync(brokerUrl, { clientId: DEVICE.username, username: DEVICE.username, password: DEVICE.password, clean: false, reconnectPeriod: 500, connectTimeout: 5_000 });
    device.on('error', () => void devErrors++);
    let lastTs = 0;
    let publishing = true;
    const publishLoop = (async () => {
      while (publishing) {
        const i = devSent++;
        const ts = (lastTs = Math.max(Date.now(), lastTs + 1));
        device.publish(`devices/${DEVICE.username}/up`, JSON.stringify({ ts, values: { power: i } }), { qos: 1 }, (err) => {
          if (err) devErrors++;
          else acked.add(i);
        });
        await sleep(20);
      }
    })();

    const latencies: { phase: string; ms: number; ok: boolean }[] = [];
    let phase = 'idle';
    let polling = true;
    const pollLoop = (async () => {
      while (polling) {
        const t0 = performance.now();
        let ok = false;
        try {
          const res = await fetch(`${apiUrl}/api/health`, { headers: auth, signal: AbortSignal.timeout(5_000) });
          await res.arrayBuffer();
          ok = res.ok;
        } catch {
          ok = false;
        }
        latencies.push({ phase, ms: performance.now() - t0, ok });
        await sleep(100);
      }
    })();

    const rss: { phase: string; mb: number }[] = [];
    timers.push(setInterval(() => rss.push({ phase, mb: rssMb(pid) }), 250));

    await sleep(IDLE_MS);
    const rssIdle = rssMb(pid);
    console.log(`idle: RSS ${rssIdle} MB, device acked ${acked.size}`);

    // --- the flood ---------------------------------------------------------------------------
    phase = 'flood';
    const deadline = Date.now() + FLOOD_MS;
    const keep = (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      return s;
    };

    const target: Target = { brokerPort, apiPort, deadline, keep, timers };
    const badPhase = badLogins(target, DEVICE.username);
    const [unauth, slow, live, big] = await Promise.race([
      Promise.all([unauthenticatedConnects(target), slowHeaders(target), unreadLiveStreams(target, auth), hugePreConnect(target)]),
      sleep(FLOOD_MS + 60_000).then(() => {
        throw new Error('an attack did not end within its deadline');
      }),
    ]);
    const remaining = deadline - Date.now();
    if (remaining > 0) await sleep(remaining);
    const bad = await Promise.race([badPhase, sleep(15_000).then(() => ({ attempts: NaN, refused: NaN, timeouts: NaN, latencyMs: [] as number[] }))]);

    const stillOpen = { unauth: unauth.stillOpen(), slow: slow.stillOpen(), live: live.stillOpen() };
    console.log(
      `flood over: unauth ${unauth.opened} opened, ${stillOpen.unauth} still open; slow ${slow.opened} opened, ${stillOpen.slow} still open; ` +
        `live ${live.answered} answered ${JSON.stringify(live.status)}, ${stillOpen.live} still open; pre-CONNECT MB sent ${big.sentMb.join('/')}`,
    );

    // --- recovery ------------------------------------------------------------------------------
    phase = 'recover';
    for (const s of sockets) s.destroy();
    for (const t of timers.splice(1)) clearInterval(t);
    await sleep(RECOVER_MS);
    const rssAfter = rssMb(pid);
    publishing = false;
    await publishLoop;
    const ackDeadline = Date.now() + 10_000;
    while (acked.size + devErrors < devSent && Date.now() < ackDeadline) await sleep(50);
    polling = false;
    await pollLoop;
    await device.endAsync().catch(() => undefined);
    for (const t of timers.splice(0)) clearInterval(t);

    gw.proc.kill('SIGTERM');
    const exit = await Promise.race([gw.exited, sleep(30_000).then(() => undefined)]);
    if (!exit) gw.proc.kill('SIGKILL');

    const store = new Database(db, { readonly: true });
    const stored = new Set(
      (store.prepare('SELECT s.value AS v FROM samples s JOIN series r ON r.id = s.series_id WHERE r.device = ? AND r.metric = ?').all(DEVICE.username, 'power') as { v: number }[]).map((r) => Number(r.v)),
    );
    store.close();
    const lost = [...acked].filter((i) => !stored.has(i)).length;

    const lat = (p: string) => latencies.filter((l) => l.phase === p);
    const summary = (p: string) => {
      const all = lat(p);
      const ms = all.map((l) => l.ms).sort((a, b) => a - b);
      return { polls: all.length, failed: all.filter((l) => !l.ok).length, p50_ms: Math.round(percentile(ms, 50)), p99_ms: Math.round(percentile(ms, 99)), max_ms: Math.round(ms[ms.length - 1] ?? NaN) };
    };
    const peak = Math.max(...rss.map((r) => r.mb).filter((x) => Number.isFinite(x)));
    const badSorted = bad.latencyMs.sort((a, b) => a - b);
    const result = {
      bench: 'flood',
      node: process.version,
      at: new Date().toISOString(),
      flood_s: FLOOD_MS / 1000,
      health_idle: summary('idle'),
      health_flood: summary('flood'),
      health_recover: summary('recover'),
      rss_mb: { idle: rssIdle, peak, after: rssAfter, peak_over_idle: peak - rssIdle, after_over_idle: rssAfter - rssIdle },
      device: { sent: devSent, acked: acked.size, stored_of_acked: acked.size - lost, lost, errors: devErrors },
      unauth_connects: { opened: unauth.opened, refused_connack: unauth.refused, still_open_at_end: stillOpen.unauth },
      bad_logins: { attempts: bad.attempts, refused: bad.refused, timeouts: bad.timeouts, p50_ms: Math.round(percentile(badSorted, 50)), p99_ms: Math.round(percentile(badSorted, 99)) },
      slow_headers: { opened: slow.opened, still_open_at_end: stillOpen.slow },
      live_streams: { answered: live.answered, status: live.status, errors: live.errors, still_open_at_end: stillOpen.live },
      pre_connect_mb: { sent: big.sentMb, closed_by_gateway: big.closedByGateway },
      gateway_exit: exit ?? 'killed',
    };
    mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
    writeFileSync(join(import.meta.dirname, 'results', 'flood.json'), `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `/api/health p50/p99: idle ${result.health_idle.p50_ms}/${result.health_idle.p99_ms} ms, flood ${result.health_flood.p50_ms}/${result.health_flood.p99_ms} ms (max ${result.health_flood.max_ms}, ${result.health_flood.failed} failed); ` +
        `RSS idle ${rssIdle} MB, peak ${peak} MB, after ${rssAfter} MB; device acked ${acked.size}, stored ${acked.size - lost}, lost ${lost}`,
    );
  } finally {
    for (const s of sockets) s.destroy();
    for (const t of timers) clearInterval(t);
    if (gw && gw.proc.exitCode === null && gw.proc.signalCode === null) gw.proc.kill('SIGKILL');
    tmp.cleanup();
  }
}

await main();
// Lingering sockets of the attackers must not keep the bench alive.
process.exit(process.exitCode ?? 0);
