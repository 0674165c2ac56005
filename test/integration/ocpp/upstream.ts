import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * A fixture upstream central system (the operator's), on bare `ws`, written from the OCPP 1.6-J
 * specification: it records every frame it receives as text, answers calls with fixed payloads
 * (StartTransaction gets ids from 9001), and can call the charger (remote start).
 */
export class FixtureUpstream {
  readonly received: string[] = [];
  readonly sent: string[] = [];
  readonly handshakes: { url: string; authorization?: string | undefined; protocol: string }[] = [];
  private server!: Server;
  private wss!: WebSocketServer;
  private socket: WebSocket | undefined;
  private nextTx = 9001;
  port = 0;

  async start(port = 0): Promise<void> {
    this.server = createServer();
    this.wss = new WebSocketServer({ server: this.server, handleProtocols: (p) => (p.has('ocpp1.6') ? 'ocpp1.6' : false) });
    this.wss.on('connection', (ws, req) => {
      this.socket = ws;
      this.handshakes.push({ url: req.url ?? '', authorization: req.headers.authorization, protocol: ws.protocol });
      ws.on('message', (data: Buffer) => {
        const text = data.toString();
        this.received.push(text);
        const f = JSON.parse(text) as unknown[];
        if (f[0] !== 2) return;
        const action = f[2] as string;
        const payload =
          action === 'BootNotification'
            ? { status: 'Accepted', currentTime: '2026-12-03T08:00:00.000Z', interval: 60 }
            : action === 'StartTransaction'
              ? { transactionId: this.nextTx++, idTagInfo: { status: 'Accepted' } }
              : action === 'Authorize' || action === 'StopTransaction'
                ? { idTagInfo: { status: 'Accepted' } }
                : action === 'Heartbeat'
                  ? { currentTime: '2026-12-03T08:00:00.000Z' }
                  : {};
        this.send(JSON.stringify([3, f[1], payload]));
      });
    });
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as AddressInfo).port;
  }

  send(text: string): void {
    this.sent.push(text);
    this.socket?.send(text);
  }

  get connected(): boolean {
    return this.socket?.readyState === 1;
  }

  async stop(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
    this.socket = undefined;
  }
}
