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
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { hashPassword } from '../../gateway/broker/passwords.js';
import { startGatewayProcess, type RunningGateway } from '../helpers/gateway-process.js';
import { tempDir } from '../helpers/peers.js';

const FLOOD_MS = Number(process.env['FLOOD_SECONDS'] ?? 30) * 1000;
const IDLE_MS = 5_000;
const RECOVER_MS = 10_000;
const TOKEN = 'flood-bench-token-0123456789abcdef';
const DEVICE = { username: 'meter-1', password: 'meter-1-good-password' };
const BIG_BYTES = 250 * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A socket that resolves once connected (or failed), bounded by `ms`. */
function open(port: number, ms = 5_000): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    const t = setTimeout(() => (s.destroy(), resolve(undefined)), ms);
    s.once('connect', () => (clearTimeout(t), resolve(s)));
    s.once('error', () => (clearTimeout(t), resolve(undefined)));
  });
}

/** Track whether the peer closed a socket, and when. */
function watch(s: Socket): { closedByPeer: () => boolean } {
  let peer = false;
  let mine = false;
  s.on('error', () => undefined);
  s.once('end', () => (peer = !mine));
  s.once('close', () => (peer = peer || !mine));
  const destroy = s.destroy.bind(s);
  s.destroy = (err?: Error) => {
    mine = true;
    return destroy(err);
  };
  return { closedByPeer: () => peer };
}

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
    gw = await startGatewayProcess(cfgFile, {}, 60_000);
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

    // 1,000 unauthenticated connects: 500 silent, 500 CONNECT without a user name.
    const unauth = { opened: 0, closedByPeer: 0, connackRefused: 0 };
    const unauthWatch: (() => boolean)[] = [];
    const unauthPhase = (async () => {
      for (let batch = 0; batch < 10 && Date.now() < deadline; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, async (_, k) => {
            const s = await open(brokerPort);
            if (!s) return;
            unauth.opened++;
            keep(s);
            unauthWatch.push(watch(s).closedByPeer);
            if ((batch * 100 + k) % 2 === 1) {
              s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `anon-${batch}-${k}`, clean: true, keepalive: 0 }));
              s.once('data', (b: Buffer) => {
                if (b[0] === 0x20 && (b[3] ?? 0) !== 0) unauth.connackRefused++;
              });
            }
          }),
        );
      }
    })();

    // 100 parallel bad logins, each reconnecting as soon as it is refused, for the whole phase.
    const bad = { attempts: 0, refused: 0, timeouts: 0, latencyMs: [] as number[] };
    const badLogin = async (k: number) => {
      while (Date.now() < deadline) {
        const s = await open(brokerPort);
        if (!s) {
          await sleep(200);
          continue;
        }
        keep(s);
        bad.attempts++;
        const t0 = performance.now();
        const answer = await new Promise<'refused' | 'other' | 'timeout'>((resolve) => {
          const t = setTimeout(() => resolve('timeout'), Math.max(100, Math.min(10_000, deadline - Date.now())));
          s.once('data', (b: Buffer) => (clearTimeout(t), resolve(b[0] === 0x20 && (b[3] ?? 0) !== 0 ? 'refused' : 'other')));
          s.once('close', () => (clearTimeout(t), resolve('refused')));
          s.on('error', () => undefined);
          s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `bad-${k}`, clean: true, keepalive: 0, username: DEVICE.username, password: Buffer.from(`wrong-${k}-${bad.attempts}`) }));
        });
        if (answer === 'refused') bad.refused++;
        else if (answer === 'timeout') bad.timeouts++;
        bad.latencyMs.push(performance.now() - t0);
        s.destroy();
        // At most ten attempts a second per worker: a gateway that refuses fast must not turn
        // the bench into a CPU flood of its own on a two-core machine.
        await sleep(Math.max(0, 100 - (performance.now() - t0)));
      }
    };
    const badPhase = Promise.all(Array.from({ length: 100 }, (_, k) => badLogin(k)));

    // 200 slow-header HTTP sockets: the request line, then one header byte every 5 s.
    const slow = { opened: 0, watchers: [] as (() => boolean)[] };
    const slowPhase = (async () => {
      await Promise.all(
        Array.from({ length: 200 }, async (_, k) => {
          const s = await open(apiPort);
          if (!s) return;
          slow.opened++;
          keep(s);
          slow.watchers.push(watch(s).closedByPeer);
          s.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${apiPort}\r\nX-Slow-${k}: `);
          const t = setInterval(() => (s.destroyed ? clearInterval(t) : s.write('a')), 5_000);
          timers.push(t);
        }),
      );
    })();

    // 1,000 /api/live streams that never read (authorised, so each is a real stream).
    const live = { opened: 0, status: new Map<number, number>(), errors: 0, watchers: [] as (() => boolean)[] };
    const livePhase = (async () => {
      for (let batch = 0; batch < 10 && Date.now() < deadline; batch++) {
        await Promise.all(
          Array.from(
            { length: 100 },
            () =>
              new Promise<void>((resolve) => {
                const req = request({ host: '127.0.0.1', port: apiPort, path: '/api/live', agent: false, headers: { ...auth, host: `127.0.0.1:${apiPort}` } });
                const t = setTimeout(() => (req.destroy(), resolve()), 5_000);
                req.on('response', (res) => {
                  clearTimeout(t);
                  live.opened++;
                  live.status.set(res.statusCode ?? 0, (live.status.get(res.statusCode ?? 0) ?? 0) + 1);
                  // Never read: the body stays in the kernel's and the gateway's buffers.
                  res.pause();
                  const s = res.socket;
                  s.pause();
                  keep(s);
                  live.watchers.push(watch(s).closedByPeer);
                  resolve();
                });
                req.on('error', () => (clearTimeout(t), live.errors++, resolve()));
                req.end();
              }),
          ),
        );
      }
    })();

    // 4 × 250 MB pre-CONNECT packets, pumped with backpressure from one reused 64 kB buffer.
    const big = { sent: [0, 0, 0, 0], closedByPeer: [false, false, false, false] };
    const header = Buffer.from([0x10, 0x80 | (BIG_BYTES & 0x7f), 0x80 | ((BIG_BYTES >> 7) & 0x7f), 0x80 | ((BIG_BYTES >> 14) & 0x7f), (BIG_BYTES >> 21) & 0x7f]);
    const chunk = Buffer.alloc(64 * 1024);
    const bigPhase = Promise.all(
      [0, 1, 2, 3].map(async (k) => {
        const s = await open(brokerPort);
        if (!s) return;
        keep(s);
        const w = watch(s);
        s.write(header);
        let sent = 0;
        while (sent < BIG_BYTES && !s.destroyed && Date.now() < deadline) {
          const ok = s.write(chunk);
          sent += chunk.length;
          big.sent[k] = sent;
          if (!ok) {
            await new Promise<void>((r) => {
              const done = () => {
                clearTimeout(t);
                s.off('drain', done);
                s.off('close', done);
                r();
              };
              const t = setTimeout(done, 2_000);
              s.once('drain', done);
              s.once('close', done);
            });
          }
        }
        big.closedByPeer[k] = w.closedByPeer();
      }),
    );

    await Promise.race([Promise.all([unauthPhase, slowPhase, livePhase, bigPhase]), sleep(FLOOD_MS + 5_000)]);
    const remaining = deadline - Date.now();
    if (remaining > 0) await sleep(remaining);
    await Promise.race([badPhase, sleep(12_000)]);

    const stillOpen = {
      unauth: unauthWatch.filter((c) => !c()).length,
      slow: slow.watchers.filter((c) => !c()).length,
      live: live.watchers.filter((c) => !c()).length,
    };
    console.log(`flood over: unauth ${unauth.opened} opened, ${stillOpen.unauth} still open; slow ${slow.opened} opened, ${stillOpen.slow} still open; live ${live.opened} answered ${JSON.stringify(Object.fromEntries(live.status))}, ${stillOpen.live} still open; big packets sent MB ${big.sent.map((b) => Math.round(b / 1048576)).join('/')}`);

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
      return { polls: all.length, failed: all.filter((l) => !l.ok).length, p50_ms: Math.round(pct(ms, 50)), p99_ms: Math.round(pct(ms, 99)), max_ms: Math.round(ms[ms.length - 1] ?? NaN) };
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
      unauth_connects: { opened: unauth.opened, refused_connack: unauth.connackRefused, still_open_at_end: stillOpen.unauth },
      bad_logins: { attempts: bad.attempts, refused: bad.refused, timeouts: bad.timeouts, p50_ms: Math.round(pct(badSorted, 50)), p99_ms: Math.round(pct(badSorted, 99)) },
      slow_headers: { opened: slow.opened, still_open_at_end: stillOpen.slow },
      live_streams: { answered: live.opened, status: Object.fromEntries(live.status), errors: live.errors, still_open_at_end: stillOpen.live },
      big_packets_mb: { sent: big.sent.map((b) => Math.round(b / 1048576)), closed_by_gateway: big.closedByPeer },
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
