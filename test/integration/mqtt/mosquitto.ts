import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { findPeer, freePort, waitFor, killAndWait } from '../../helpers/peers.js';

/**
 * A real Mosquitto on a free loopback port, with persistence in a temp dir (so a restart keeps
 * sessions and queued QoS 1 messages) and max_queued_messages raised: with the default of 1000
 * Mosquitto drops QoS 1 messages for a slow or absent client (LESSONS.md).
 */
export const MOSQUITTO = findPeer('mosquitto', ['mosquitto', '/usr/sbin/mosquitto']);

export interface MosquittoOptions {
  dir: string;
  users?: Record<string, string>;
  tls?: boolean;
  /** More mosquitto.conf lines (a bridge). */
  extra?: string[];
}

export interface Mosquitto {
  url: string;
  port: number;
  caFile?: string;
  stop(): Promise<void>;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** The running broker's process id (to stop it with SIGSTOP: a broker gone silent, socket open). */
  pid(): number | undefined;
}

export async function startMosquitto(opts: MosquittoOptions): Promise<Mosquitto> {
  if (!MOSQUITTO) throw new Error('mosquitto is not installed');
  const bin = MOSQUITTO;
  const port = await freePort();
  const lines = [
    `listener ${port} 127.0.0.1`,
    'persistence true',
    `persistence_location ${opts.dir}/`,
    'max_queued_messages 1000000',
    'max_inflight_messages 0',
    'log_dest none',
  ];
  // Run as root (CI containers), Mosquitto drops to user "mosquitto", which cannot read or write
  // the test's private temp dir: keep the current user.
  if (process.getuid?.() === 0) lines.push('user root');
  let caFile: string | undefined;
  if (opts.users) {
    const pw = join(opts.dir, 'passwd');
    writeFileSync(pw, '');
    for (const [u, p] of Object.entries(opts.users)) execFileSync('mosquitto_passwd', ['-b', pw, u, p]);
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else lines.push('allow_anonymous true');
  if (opts.tls) {
    caFile = makeCerts(opts.dir);
    lines.push(`cafile ${caFile}`, `certfile ${join(opts.dir, 'server.crt')}`, `keyfile ${join(opts.dir, 'server.key')}`);
  }
  lines.push(...(opts.extra ?? []));
  const conf = join(opts.dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`);
  let proc: ChildProcess | undefined;
  const up = async () => {
    proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(() => canConnect(port), 10_000, 50);
  };
  const down = async (signal: NodeJS.Signals) => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await killAndWait(p, signal);
  };
  await up();
  const m: Mosquitto = {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    port,
    stop: () => down('SIGTERM'),
    kill: () => down('SIGKILL'),
    start: up,
    pid: () => proc?.pid,
  };
  if (caFile) m.caFile = caFile;
  return m;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A throw-away CA and a server certificate for 127.0.0.1 (openssl from Debian). */
function makeCerts(dir: string): string {
  const o = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  o('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=fcgw test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
  o('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  o('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', 'ext.cnf', '-out', 'server.crt');
  return join(dir, 'ca.crt');
}
