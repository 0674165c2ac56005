import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { GatewayConfig } from '../config/schema.js';

type EmbeddedConfig = NonNullable<GatewayConfig['broker']['embedded']>;

export class BrokerError extends Error {
  constructor(
    readonly code: 'BROKER_LISTEN_FAILED' | 'BROKER_TLS_FILES',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * The broker's sockets: plain MQTT and, when configured, mqtts. Every TCP connection counts
 * toward max_clients from accept (before TLS, before CONNECT), so a burst of sockets that never
 * log in cannot exceed it.
 */
export class Listeners {
  private readonly sockets = new Set<Socket>();
  private servers: Server[] = [];
  readonly ports = { plain: 0, tls: 0 };

  constructor(
    private readonly cfg: EmbeddedConfig,
    private readonly handlers: {
      /** A socket was accepted (plain, or TLS after its handshake); `certUser` is a verified client certificate's CN. */
      accept: (socket: Socket, certUser: string | undefined) => void;
      refuseFull: () => void;
    },
  ) {}

  get openSockets(): number {
    return this.sockets.size;
  }

  async start(): Promise<void> {
    const plain = createServer({ noDelay: true }, (socket) => {
      if (this.admit(socket)) this.handlers.accept(socket, undefined);
    });
    await this.listen(plain, this.cfg.host, this.cfg.port, 'plain');
    const t = this.cfg.tls;
    if (!t) return;
    let files: { cert: Buffer; key: Buffer; ca?: Buffer };
    try {
      files = { cert: readFileSync(t.cert), key: readFileSync(t.key), ...(t.ca ? { ca: readFileSync(t.ca) } : {}) };
    } catch (err) {
      throw new BrokerError('BROKER_TLS_FILES', `embedded MQTT broker: cannot read its TLS files: ${(err as Error).message}`, { cause: err });
    }
    const secure = createTlsServer({
      ...files,
      requestCert: t.client_certificates !== 'none',
      rejectUnauthorized: t.client_certificates === 'require',
      handshakeTimeout: this.cfg.connect_timeout,
      noDelay: true,
    });
    // Counted on the raw socket, before the handshake (a TLS handshake costs more than a CONNECT).
    secure.on('connection', (raw: Socket) => void this.admit(raw));
    secure.on('tlsClientError', () => undefined);
    secure.on('secureConnection', (socket: TLSSocket) => {
      const cert = socket.authorized ? socket.getPeerCertificate() : undefined;
      const cn = cert?.subject?.CN;
      this.handlers.accept(socket, typeof cn === 'string' && cn !== '' ? cn : undefined);
    });
    await this.listen(secure, t.host ?? this.cfg.host, t.port, 'tls');
  }

  async stop(): Promise<void> {
    const servers = this.servers.splice(0);
    const closed = servers.map((s) => new Promise<void>((r) => s.close(() => r())));
    // Sockets that never logged in are not aedes clients: its close does not end them.
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closed);
  }

  private admit(socket: Socket): boolean {
    if (this.sockets.size >= this.cfg.max_clients) {
      this.handlers.refuseFull();
      socket.destroy();
      return false;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    return true;
  }

  private listen(server: Server, host: string, port: number, which: 'plain' | 'tls'): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new BrokerError('BROKER_LISTEN_FAILED', `embedded MQTT broker cannot listen on ${host}:${port}: ${err.message}`, { cause: err })),
      );
      server.listen(port, host, () => {
        const addr = server.address();
        this.ports[which] = typeof addr === 'object' && addr ? addr.port : port;
        this.servers.push(server);
        resolve();
      });
    });
  }
}
