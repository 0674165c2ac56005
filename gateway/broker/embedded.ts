import { Aedes, type Client } from 'aedes';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { verifyPassword } from './passwords.js';
import { topicMatches } from './topics.js';
import { dialHost } from '../model/hosts.js';

type EmbeddedConfig = NonNullable<GatewayConfig['broker']['embedded']>;

/**
 * Called for every PUBLISH before the broker acknowledges it. The embedded path commits the
 * message's samples here, so a PUBACK means "in the store" (aedes sends PUBACK only after
 * authorizePublish calls back; messages it has acknowledged live only in memory).
 * Throw only when the message could not be stored: the client then resends it.
 */
export type PublishInterceptor = (topic: string, payload: Buffer, clientId: string) => Promise<void> | void;

export class BrokerError extends Error {
  constructor(
    readonly code: 'BROKER_LISTEN_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private server: Server | undefined;
  private readonly interceptors: PublishInterceptor[] = [];
  /** Credentials of the gateway's own clients (northbound sink), never shown or stored. */
  readonly internalUser = { username: `fcgw-internal-${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('hex') };
  private boundPort = 0;
  /**
   * While held, publishes wait unacknowledged (no PUBACK) until `open()`: the gateway holds its
   * broker from listening until its drivers are running, so nothing is acknowledged that no
   * driver was there to take. Devices simply wait for their PUBACK, as on a slow link.
   */
  private held = false;
  private readonly waiting: ((err?: Error) => void)[] = [];

  constructor(
    private readonly cfg: EmbeddedConfig,
    private readonly log: Logger,
  ) {}

  intercept(fn: PublishInterceptor): () => void {
    this.interceptors.push(fn);
    return () => {
      const i = this.interceptors.indexOf(fn);
      if (i >= 0) this.interceptors.splice(i, 1);
    };
  }

  /**
   * Hold devices' publishes (unacknowledged) until `open()`: before `start()` while the drivers
   * come up, around a reload's driver swap, and from the start of a stop (what is held then is
   * refused when the broker closes, and its devices send it again to the next run).
   */
  hold(): void {
    this.held = true;
  }

  /** Let held publishes through, in the order they arrived. */
  open(): void {
    this.held = false;
    for (const go of this.waiting.splice(0)) go();
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `mqtt://${dialHost(this.cfg.host)}:${this.boundPort}`;
  }

  connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  async start(): Promise<void> {
    if (this.server) return;
    const users = new Map(this.cfg.users.map((u) => [u.username, u]));
    const authRequired = users.size > 0;
    const aedes = await Aedes.createBroker({
      id: 'fcgw',
      concurrency: 1000,
      queueLimit: 1000,
      authenticate: (client, username, password, done) => {
        (client as Client & { fcgwUser?: string }).fcgwUser = username ?? undefined;
        if (username === this.internalUser.username && password?.toString() === this.internalUser.password) {
          return done(null, true);
        }
        if (!authRequired) return done(null, true);
        const u = username ? users.get(username) : undefined;
        if (u && password && verifyPassword(password.toString(), u.password_hash)) return done(null, true);
        this.log.warn({ client: client.id, username }, 'MQTT login refused');
        const err = Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
        done(err, false);
      },
      authorizePublish: (client, packet, callback) => {
        if (packet.topic.startsWith('$')) return callback(new Error('publishing to $ topics is not allowed'));
        if (packet.payload.length > this.cfg.max_payload) {
          this.log.warn({ client: client?.id, topic: packet.topic, bytes: packet.payload.length }, 'MQTT payload over max_payload refused');
          return callback(new Error('payload too large'));
        }
        if (client && !this.allowed(client, packet.topic, 'publish', users)) {
          this.log.warn({ client: client.id, topic: packet.topic }, 'MQTT publish not allowed by ACL');
          return callback(new Error('not authorised'));
        }
        const go = (stopping?: Error) => {
          if (stopping) return callback(stopping);
          if (this.interceptors.length === 0) return callback(null);
          const clientId = client?.id ?? '';
          Promise.all(this.interceptors.map(async (fn) => fn(packet.topic, packet.payload as Buffer, clientId))).then(
            () => callback(null),
            (err: Error) => callback(err),
          );
        };
        // The gateway's own clients (northbound mqtt sinks) are never held: a sink flushing at
        // stop must get its acknowledgements.
        const own = (client as (Client & { fcgwUser?: string }) | null)?.fcgwUser === this.internalUser.username;
        if (this.held && !own) this.waiting.push(go);
        else go();
      },
      authorizeSubscribe: (client, sub, callback) => {
        if (!this.allowed(client, sub.topic, 'subscribe', users)) return callback(new Error('not authorised'), null);
        callback(null, sub);
      },
    });
    aedes.on('clientError', (client, err) => this.log.debug({ client: client.id, err: err.message }, 'MQTT client error'));
    this.aedes = aedes;
    const server = createServer({ noDelay: true }, (socket) => {
      if (aedes.connectedClients >= this.cfg.max_clients) {
        this.log.warn({ max: this.cfg.max_clients }, 'MQTT connection refused: max_clients reached');
        socket.destroy();
        return;
      }
      aedes.handle(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) =>
        reject(new BrokerError('BROKER_LISTEN_FAILED', `embedded MQTT broker cannot listen on ${this.cfg.host}:${this.cfg.port}: ${err.message}`, { cause: err })),
      );
      server.listen(this.cfg.port, this.cfg.host, () => resolve());
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : this.cfg.port;
    this.server = server;
    this.log.info({ url: this.url, auth: authRequired }, 'embedded MQTT broker listening');
  }

  private allowed(client: Client, topic: string, kind: 'publish' | 'subscribe', users: Map<string, EmbeddedConfig['users'][number]>): boolean {
    const username = (client as Client & { fcgwUser?: string }).fcgwUser;
    if (username === this.internalUser.username) return true;
    const u = username ? users.get(username) : undefined;
    if (!u) return users.size === 0;
    const filters = kind === 'publish' ? u.publish : u.subscribe;
    return filters.some((f) => {
      const filter = f.replaceAll('{username}', u.username);
      return kind === 'publish' ? topicMatches(filter, topic) : filter === '#' || filter === topic || topicMatches(filter, topic);
    });
  }


  /** Publish from inside the gateway (alerts, northbound) without a socket. */
  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('broker not started'));
    return new Promise((resolve, reject) =>
      aedes.publish(
        { cmd: 'publish', topic, payload: typeof payload === 'string' ? Buffer.from(payload) : payload, qos: opts.qos ?? 0, retain: opts.retain ?? false, dup: false },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
  }

  async stop(): Promise<void> {
    const server = this.server;
    const aedes = this.aedes;
    this.server = undefined;
    this.aedes = undefined;
    // Held publishes were never acknowledged: refusing them makes their devices send them again.
    for (const go of this.waiting.splice(0)) go(new Error('broker stopping'));
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}
