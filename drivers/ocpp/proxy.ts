import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type WebSocket from 'ws';
import type { Logger } from 'pino';
import type { Handler } from './central-system.js';

/** WebSocket.OPEN (ws itself loads with the first upstream connection, drivers/README.md: lazy loading). */
const OPEN = 1;
const requireWs = (): typeof WebSocket => createRequire(import.meta.url)('ws') as typeof WebSocket;

/**
 * Proxy mode: the charger's connection mirrored to the operator's central system with the same
 * identity, subprotocol and credentials. Frames pass unchanged both ways (the text as received);
 * the gateway only reads what went by. While the upstream is down the gateway answers as central
 * system and keeps the charger's transaction messages, in order, for when it is back (the offline
 * behaviour OCPP asks of a charger); the transaction ids it gave meanwhile are mapped to the
 * upstream's in those messages.
 */

type Frame = unknown[];
const TRANSACTION_ACTIONS = new Set(['StartTransaction', 'StopTransaction', 'MeterValues']);
const BACKOFF_MIN = 500;
const BACKOFF_MAX = 30_000;

export interface ProxyOptions {
  id: string;
  upstream: string;
  protocol: string;
  /** The charger's own Authorization header, forwarded as it came. */
  authorization?: string | undefined;
  ca?: Buffer | undefined;
  callTimeout: number;
  handlers: Record<string, Handler>;
  log: Logger;
  /** Transaction messages waiting for the upstream (kept by the driver across charger reconnects). */
  queue: Queued[];
  /** Local transaction id ↔ upstream transaction id, kept with the queue. */
  tx: TransactionMap;
  counters: Record<string, number>;
  /** Called after the queue or the id pairs changed (the driver writes them to disk). */
  changed: () => void;
}

export interface Queued {
  uid: string;
  action: string;
  payload: Record<string, unknown>;
  /** The id this gateway gave a StartTransaction it answered itself. */
  localTx?: number;
}

export class TransactionMap {
  readonly toLocal = new Map<number, number>();
  readonly toUpstream = new Map<number, number>();
  set(local: number, upstream: number): void {
    this.toLocal.set(upstream, local);
    this.toUpstream.set(local, upstream);
  }
}

export class ProxySession {
  private up: WebSocket | undefined;
  private upOpen = false;
  private closed = false;
  private lane: Promise<void> = Promise.resolve();
  private readonly waiting = new Map<string, (a: { text: string; frame: Frame } | undefined) => void>();
  private backoff = BACKOFF_MIN;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly charger: WebSocket,
    private readonly o: ProxyOptions,
  ) {
    charger.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) this.fromCharger(data.toString());
    });
    charger.on('close', () => this.close());
    charger.on('error', () => undefined);
    this.connect();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    for (const w of this.waiting.values()) w(undefined);
    this.waiting.clear();
    this.up?.terminate();
    if (this.charger.readyState === OPEN) this.charger.close(1001, 'gateway stopping');
  }

  private connect(): void {
    if (this.closed) return;
    const headers: Record<string, string> = this.o.authorization ? { authorization: this.o.authorization } : {};
    const ws = new (requireWs())(`${this.o.upstream}/${encodeURIComponent(this.o.id)}`, [this.o.protocol], { headers, ...(this.o.ca ? { ca: this.o.ca } : {}), handshakeTimeout: this.o.callTimeout });
    this.up = ws;
    ws.on('open', () => {
      this.upOpen = true;
      this.backoff = BACKOFF_MIN;
      this.o.counters['upstream_connects'] = (this.o.counters['upstream_connects'] ?? 0) + 1;
      this.o.log.info({ chargePoint: this.o.id, queued: this.o.queue.length }, 'upstream central system connected');
      this.lane = this.lane.then(() => this.flush());
    });
    ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) this.fromUpstream(data.toString());
    });
    ws.on('error', (err) => this.o.log.debug({ chargePoint: this.o.id, err: err.message }, 'upstream error'));
    ws.on('close', () => {
      const was = this.upOpen;
      this.upOpen = false;
      for (const w of this.waiting.values()) w(undefined);
      this.waiting.clear();
      if (this.closed) return;
      if (was) this.o.log.warn({ chargePoint: this.o.id }, 'upstream central system lost: answering as central system');
      this.timer = setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(BACKOFF_MAX, this.backoff * 2);
    });
  }

  /** Calls from the upstream and answers to them are the operator's business: passed as they are. */
  private fromUpstream(text: string): void {
    const f = parse(text);
    if (f && (f[0] === 3 || f[0] === 4) && typeof f[1] === 'string' && this.waiting.has(f[1])) {
      const w = this.waiting.get(f[1]);
      this.waiting.delete(f[1]);
      w?.({ text, frame: f });
      return;
    }
    if (this.charger.readyState === OPEN) this.charger.send(text);
  }

  private fromCharger(text: string): void {
    const f = parse(text);
    if (f && f[0] === 2 && typeof f[1] === 'string' && typeof f[2] === 'string') {
      const call = { uid: f[1], action: f[2], payload: (f[3] ?? {}) as Record<string, unknown> };
      this.lane = this.lane.then(() => this.chargerCall(text, call)).catch((err: unknown) => this.o.log.error({ err }, 'proxy call failed'));
      return;
    }
    // An answer to an upstream call (or something the upstream may judge): passed on.
    if (this.upOpen) this.up?.send(text);
  }

  /** A call from the charger: through to the upstream when it is there and caught up, else answered here. */
  private async chargerCall(text: string, c: { uid: string; action: string; payload: Record<string, unknown> }): Promise<void> {
    if (this.upOpen && this.o.queue.length === 0) {
      const answer = await this.ask(c.uid, text);
      if (answer) {
        if (this.charger.readyState === OPEN) this.charger.send(answer.text);
        await this.read(c, answer.frame);
        this.count('forwarded');
        return;
      }
    }
    await this.answerHere(c);
  }

  private async answerHere(c: { uid: string; action: string; payload: Record<string, unknown> }): Promise<void> {
    const h = this.o.handlers[c.action];
    let reply: Frame;
    let localTx: number | undefined;
    if (!h) reply = [4, c.uid, 'NotImplemented', `${c.action.slice(0, 40)} is not answered while the central system is away`, {}];
    else {
      const res = await h(this.localPayload(c.action, c.payload));
      reply = [3, c.uid, res];
      if (c.action === 'StartTransaction') localTx = res['transactionId'] as number;
    }
    if (this.charger.readyState === OPEN) this.charger.send(JSON.stringify(reply));
    this.count('answered_offline');
    if (TRANSACTION_ACTIONS.has(c.action)) {
      this.o.queue.push({ ...c, ...(localTx !== undefined ? { localTx } : {}) });
      this.o.changed();
      this.count('queued');
    }
  }

  /** Replay the kept transaction messages in order; stops at the first that gets no answer. */
  private async flush(): Promise<void> {
    while (this.upOpen && this.o.queue.length > 0) {
      const q = this.o.queue[0] as Queued;
      const payload = this.upstreamPayload(q.payload);
      const answer = await this.ask(q.uid, JSON.stringify([2, q.uid, q.action, payload]));
      if (!answer) return;
      if (q.action === 'StartTransaction' && q.localTx !== undefined && answer.frame[0] === 3) {
        const up = (answer.frame[2] as { transactionId?: unknown } | undefined)?.transactionId;
        if (typeof up === 'number') this.o.tx.set(q.localTx, up);
      }
      this.o.queue.shift();
      this.o.changed();
      this.count('replayed');
    }
  }

  /** What went by, read as a central system would (the upstream's transaction ids mapped to ours). */
  private async read(c: { action: string; payload: Record<string, unknown> }, answer: Frame): Promise<void> {
    if (answer[0] !== 3) return;
    const h = this.o.handlers[c.action];
    if (!h) return;
    const a = answer[2] as { idTagInfo?: { status?: unknown }; idTokenInfo?: { status?: unknown } } | undefined;
    const verdict = a?.idTagInfo?.status ?? a?.idTokenInfo?.status;
    const res = await h(this.localPayload(c.action, c.payload), typeof verdict === 'string' ? verdict : undefined);
    if (c.action === 'StartTransaction') {
      const up = (answer[2] as { transactionId?: unknown } | undefined)?.transactionId;
      if (typeof up === 'number') {
        this.o.tx.set(res['transactionId'] as number, up);
        this.o.changed();
      }
    }
  }

  private localPayload(action: string, p: Record<string, unknown>): Record<string, unknown> {
    const t = p['transactionId'];
    if (typeof t !== 'number' || action === 'StartTransaction') return p;
    const local = this.o.tx.toLocal.get(t);
    return local !== undefined ? { ...p, transactionId: local } : p;
  }

  /** Only ids this gateway gave are rewritten (they are apart from the operator's: see the driver). */
  private upstreamPayload(p: Record<string, unknown>): Record<string, unknown> {
    const t = p['transactionId'];
    if (typeof t !== 'number') return p;
    const up = this.o.tx.toUpstream.get(t);
    return up !== undefined ? { ...p, transactionId: up } : p;
  }

  /** Send a call upstream and wait for its answer (undefined: no answer in time, or the link fell). */
  private ask(uid: string, text: string): Promise<{ text: string; frame: Frame } | undefined> {
    return new Promise((resolve) => {
      if (!this.upOpen || !this.up) return resolve(undefined);
      const t = setTimeout(() => {
        this.waiting.delete(uid);
        resolve(undefined);
      }, this.o.callTimeout);
      this.waiting.set(uid, (a) => {
        clearTimeout(t);
        resolve(a);
      });
      this.up.send(text);
    });
  }

  private count(k: string): void {
    this.o.counters[k] = (this.o.counters[k] ?? 0) + 1;
  }
}

function parse(text: string): Frame | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a charger's upgrade request says (as ocpp-rpc reads it for the central system): the
 * identity is the last path segment, the Basic password counts only with the identity as username.
 */
export function parseHandshake(req: IncomingMessage): { id: string; endpoint: string; password: Buffer | undefined; protocols: Set<string>; authorization: string | undefined } {
  const url = new URL(req.url ?? '/', 'http://x');
  const parts = url.pathname.split('/');
  let id: string;
  try {
    id = decodeURIComponent(parts.pop() ?? '');
  } catch {
    id = '';
  }
  const endpoint = parts.join('/') || '/';
  const authorization = req.headers.authorization;
  let password: Buffer | undefined;
  const basic = authorization?.match(/^Basic ([A-Za-z0-9+/=]+)$/);
  if (basic?.[1]) {
    const raw = Buffer.from(basic[1], 'base64');
    const user = Buffer.from(`${id}:`);
    if (raw.subarray(0, user.length).equals(user)) password = raw.subarray(user.length);
  }
  const protocols = new Set((req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter(Boolean));
  return { id, endpoint, password, protocols, authorization };
}
