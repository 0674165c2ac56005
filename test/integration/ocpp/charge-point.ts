import WebSocket from 'ws';

/**
 * An OCPP 1.6-J charge point written from the specification (OCPP-J 1.6, section 4: a call is
 * `[2, uniqueId, action, payload]`, its answer `[3, uniqueId, payload]` or
 * `[4, uniqueId, errorCode, errorDescription, errorDetails]`), on the bare `ws` library: it shares
 * no code and no library with the driver (which uses ocpp-rpc), so the two can disagree.
 */
export type Frame = unknown[];

export class TestChargePoint {
  private ws!: WebSocket;
  private seq = 0;
  private readonly waiting = new Map<string, (f: Frame) => void>();
  /** Frames the central system sent as calls (type 2), answered by `onCall`. */
  readonly calls: Frame[] = [];
  /** Every text frame received, as sent. */
  readonly received: string[] = [];
  onCall: (action: string, payload: unknown) => unknown = () => ({});
  protocol = '';

  static async connect(url: string, opts: { id: string; password?: string; user?: string; protocols?: string[]; ca?: Buffer } ): Promise<TestChargePoint> {
    const cp = new TestChargePoint();
    const headers: Record<string, string> = {};
    if (opts.password !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${opts.user ?? opts.id}:${opts.password}`).toString('base64')}`;
    const ws = new WebSocket(`${url}/${encodeURIComponent(opts.id)}`, opts.protocols ?? ['ocpp1.6'], { headers, ...(opts.ca ? { ca: opts.ca } : {}) });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode ?? '?'}`)));
      ws.once('error', reject);
    });
    cp.ws = ws;
    cp.protocol = ws.protocol;
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      cp.received.push(text);
      const f = JSON.parse(text) as Frame;
      if (f[0] === 2) {
        cp.calls.push(f);
        ws.send(JSON.stringify([3, f[1], cp.onCall(f[2] as string, f[3])]));
        return;
      }
      const w = cp.waiting.get(f[1] as string);
      cp.waiting.delete(f[1] as string);
      w?.(f);
    });
    return cp;
  }

  /** Send a call and resolve with the answer frame as received (type 3 or 4). */
  call(action: string, payload: unknown): Promise<Frame> {
    const id = `m${++this.seq}`;
    return this.raw(id, JSON.stringify([2, id, action, payload]));
  }

  /** Send a text frame with this unique id and wait for the frame answering it. */
  raw(id: string, text: string): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to ${text.slice(0, 80)}`)), 5000);
      this.waiting.set(id, (f) => {
        clearTimeout(t);
        resolve(f);
      });
      this.ws.send(text);
    });
  }

  /** Send any text or bytes as they are (attacker spellings). */
  sendRaw(data: string | Buffer): void {
    this.ws.send(data);
  }

  /** Resolves with the close code once the connection is closed. */
  closeCode(): Promise<number> {
    return new Promise((r) => this.ws.once('close', (code: number) => r(code)));
  }

  closed(): Promise<void> {
    return new Promise((r) => (this.ws.readyState === WebSocket.CLOSED ? r() : this.ws.once('close', () => r())));
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    const done = this.closed();
    this.ws.close();
    await done;
  }
}
