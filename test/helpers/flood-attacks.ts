import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';

/**
 * The attacks of the flood bench (test/bench/flood.ts), each bounded by a deadline and each
 * reporting what the gateway did with it. Every socket is handed to `keep`, so the bench can
 * close whatever is left when it is done.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Target {
  brokerPort: number;
  apiPort: number;
  deadline: number;
  keep: (s: Socket) => void;
  timers: NodeJS.Timeout[];
}

/** The RSS of a process in MB, from /proc/<pid>/status (NaN once it is gone). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : NaN;
  } catch {
    return NaN;
  }
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** A socket once connected (undefined if it failed or took longer than `ms`). */
function open(port: number, ms = 5_000): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = netConnect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    const t = setTimeout(() => (s.destroy(), resolve(undefined)), ms);
    s.once('connect', () => (clearTimeout(t), resolve(s)));
    s.once('error', () => (clearTimeout(t), resolve(undefined)));
  });
}

/** Whether the gateway closed a socket (as opposed to the bench destroying it). */
function closedByPeer(s: Socket): () => boolean {
  let peer = false;
  let mine = false;
  s.once('end', () => (peer = !mine));
  s.once('close', () => (peer = peer || !mine));
  const destroy = s.destroy.bind(s);
  s.destroy = (err?: Error) => {
    mine = true;
    return destroy(err);
  };
  return () => peer;
}

const isRefusedConnack = (b: Buffer) => b[0] === 0x20 && (b[3] ?? 0) !== 0;

/** 1,000 unauthenticated connects: half never send CONNECT, half send one without a user name. */
export async function unauthenticatedConnects(t: Target, n = 1000): Promise<{ opened: number; refused: number; stillOpen: () => number }> {
  const out = { opened: 0, refused: 0 };
  const watchers: (() => boolean)[] = [];
  for (let batch = 0; batch < n / 100 && Date.now() < t.deadline; batch++) {
    await Promise.all(
      Array.from({ length: 100 }, async (_, k) => {
        const s = await open(t.brokerPort);
        if (!s) return;
        out.opened++;
        t.keep(s);
        watchers.push(closedByPeer(s));
        if (k % 2 === 1) {
          s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `anon-${batch}-${k}`, clean: true, keepalive: 0 }));
          s.once('data', (b: Buffer) => void (isRefusedConnack(b) && out.refused++));
        }
      }),
    );
  }
  return { ...out, stillOpen: () => watchers.filter((c) => !c()).length };
}

/** `workers` parallel wrong-password logins for a real user, each trying again once refused (≤ 10/s each). */
export async function badLogins(t: Target, username: string, workers = 100): Promise<{ attempts: number; refused: number; timeouts: number; latencyMs: number[] }> {
  const out = { attempts: 0, refused: 0, timeouts: 0, latencyMs: [] as number[] };
  const worker = async (k: number) => {
    while (Date.now() < t.deadline) {
      const s = await open(t.brokerPort);
      if (!s) {
        await sleep(200);
        continue;
      }
      t.keep(s);
      out.attempts++;
      const t0 = performance.now();
      const answer = await new Promise<'refused' | 'other' | 'timeout'>((resolve) => {
        const timer = setTimeout(() => resolve('timeout'), Math.max(100, Math.min(10_000, t.deadline - Date.now())));
        s.once('data', (b: Buffer) => (clearTimeout(timer), resolve(isRefusedConnack(b) ? 'refused' : 'other')));
        s.once('close', () => (clearTimeout(timer), resolve('refused')));
        s.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: `bad-${k}`, clean: true, keepalive: 0, username, password: Buffer.from(`wrong-${k}-${out.attempts}`) }));
      });
      if (answer === 'refused') out.refused++;
      else if (answer === 'timeout') out.timeouts++;
      out.latencyMs.push(performance.now() - t0);
      s.destroy();
      // A gateway that refuses fast must not turn the bench into a CPU flood of its own on two cores.
      await sleep(Math.max(0, 100 - (performance.now() - t0)));
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, k) => worker(k)));
  return out;
}

/** Slow-header HTTP sockets: a request line, then one header byte every 5 s. */
export async function slowHeaders(t: Target, n = 200): Promise<{ opened: number; stillOpen: () => number }> {
  const watchers: (() => boolean)[] = [];
  let opened = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, k) => {
      const s = await open(t.apiPort);
      if (!s) return;
      opened++;
      t.keep(s);
      watchers.push(closedByPeer(s));
      // Read what the server answers (a 408): a socket that is never read never sees the FIN.
      s.resume();
      s.write(`GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:${t.apiPort}\r\nX-Slow-${k}: `);
      const timer = setInterval(() => (s.destroyed ? clearInterval(timer) : s.write('a')), 5_000);
      t.timers.push(timer);
    }),
  );
  return { opened, stillOpen: () => watchers.filter((c) => !c()).length };
}

/** Authorised `/api/live` streams that never read past their response head. */
export async function unreadLiveStreams(t: Target, headers: Record<string, string>, n = 1000): Promise<{ answered: number; status: Record<number, number>; errors: number; stillOpen: () => number }> {
  const status = new Map<number, number>();
  const watchers: (() => boolean)[] = [];
  let answered = 0;
  let errors = 0;
  for (let batch = 0; batch < n / 100 && Date.now() < t.deadline; batch++) {
    await Promise.all(
      Array.from(
        { length: 100 },
        () =>
          new Promise<void>((resolve) => {
            const req = request({ host: '127.0.0.1', port: t.apiPort, path: '/api/live', agent: false, headers: { ...headers, host: `127.0.0.1:${t.apiPort}` } });
            const timer = setTimeout(() => (req.destroy(), resolve()), 5_000);
            req.on('response', (res) => {
              clearTimeout(timer);
              answered++;
              status.set(res.statusCode ?? 0, (status.get(res.statusCode ?? 0) ?? 0) + 1);
              // Never read: the stream's data piles up in the kernel's and the gateway's buffers.
              res.pause();
              res.socket.pause();
              t.keep(res.socket);
              watchers.push(closedByPeer(res.socket));
              resolve();
            });
            req.on('error', () => (clearTimeout(timer), errors++, resolve()));
            req.end();
          }),
      ),
    );
  }
  return { answered, status: Object.fromEntries(status), errors, stillOpen: () => watchers.filter((c) => !c()).length };
}

/**
 * Pre-CONNECT packets of `bytes` each: a CONNECT fixed header declaring that remaining length,
 * then zeros from one reused 64 kB buffer, pumped with backpressure (the sender never holds the
 * packet), until all is sent, the gateway closes the socket, or the deadline.
 */
export async function hugePreConnect(t: Target, count = 4, bytes = 250 * 1024 * 1024): Promise<{ sentMb: number[]; closedByGateway: boolean[] }> {
  const header = Buffer.from([0x10, 0x80 | (bytes & 0x7f), 0x80 | ((bytes >> 7) & 0x7f), 0x80 | ((bytes >> 14) & 0x7f), (bytes >> 21) & 0x7f]);
  const chunk = Buffer.alloc(64 * 1024);
  const sentMb = new Array<number>(count).fill(0);
  const closed = new Array<boolean>(count).fill(false);
  await Promise.all(
    Array.from({ length: count }, async (_, k) => {
      const s = await open(t.brokerPort);
      if (!s) return;
      t.keep(s);
      const byPeer = closedByPeer(s);
      s.write(header);
      let sent = 0;
      while (sent < bytes && !s.destroyed && Date.now() < t.deadline) {
        const ok = s.write(chunk);
        sent += chunk.length;
        if (!ok) {
          await new Promise<void>((r) => {
            const done = () => {
              clearTimeout(timer);
              s.off('drain', done);
              s.off('close', done);
              r();
            };
            const timer = setTimeout(done, 2_000);
            s.once('drain', done);
            s.once('close', done);
          });
        }
      }
      sentMb[k] = Math.round(sent / 1048576);
      closed[k] = byPeer();
    }),
  );
  return { sentMb, closedByGateway: closed };
}
