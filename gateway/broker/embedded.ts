import type { Aedes, Client } from 'aedes';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import type { GatewayMetrics } from '../runtime/metrics.js';
import { AccessRules } from './access.js';
import { FrameGuard, type GuardRefusal } from './frame-guard.js';
import { Listeners } from './listeners.js';
import { CheckQueue, LoginLimiter, addressKey } from './login-limiter.js';
import { dummyHash, verifyPassword } from './passwords.js';
import { BoundedLabels, RateLimitedLog } from './refusal-log.js';
import { dialHost } from '../model/hosts.js';

export { BrokerError } from './listeners.js';

type EmbeddedConfig = NonNullable<GatewayConfig['broker']['embedded']>;

/**
 * Called for every PUBLISH before the broker acknowledges it. The embedded path commits the
 * message's samples here, so a PUBACK means "in the store" (aedes sends PUBACK only after
 * authorizePublish calls back; messages it has acknowledged live only in memory).
 * Throw only when the message could not be stored: the client then resends it.
 */
export type PublishInterceptor = (topic: string, payload: Buffer, clientId: string) => Promise<void> | void;

export interface BrokerDeps {
  metrics?: Pick<GatewayMetrics, 'brokerConnectionsRefused' | 'brokerPublishRefused' | 'brokerSubscribeRefused'>;
  now?: () => number;
  /** The password check (tests wrap it to see which hash an unknown user is checked against). */
  verifyPassword?: (password: string, hash: string) => Promise<boolean>;
}

type ConnectRefusal = 'bad_login' | 'rate_limited' | 'client_id' | 'max_clients' | GuardRefusal;
type PublishRefusal = 'not_authorised' | 'payload_too_large' | 'dollar_topic';

/** What the broker knows of a client beyond aedes: its user and whether it named its client id. */
type FcgwClient = Client & { fcgwUser?: string; fcgwNamedId?: boolean };

/** Room for a PUBLISH's topic and properties beside its payload, in the socket's packet limit. */
const HEADER_ALLOWANCE = 65_536 + 1024;
const LOG_INTERVAL_MS = 60_000;

export class EmbeddedBroker {
  private aedes: Aedes | undefined;
  private listeners: Listeners | undefined;
  private readonly interceptors: PublishInterceptor[] = [];
  /** Credentials of the gateway's own clients (northbound sink), never shown or stored. */
  readonly internalUser = { username: `fcgw-internal-${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('hex') };
  /**
   * While held, publishes wait unacknowledged (no PUBACK) until `open()`: the gateway holds its
   * broker from listening until its drivers are running, so nothing is acknowledged that no
   * driver was there to take. Devices simply wait for their PUBACK, as on a slow link.
   */
  private held = false;
  private readonly waiting: ((err?: Error) => void)[] = [];
  private readonly users: Map<string, EmbeddedConfig['users'][number]>;
  private readonly access: AccessRules;
  private readonly limiter: LoginLimiter;
  /** Two checks at a time leave half of libuv's pool to files, DNS and gzip. */
  private readonly checks = new CheckQueue(2);
  private readonly logLimit: RateLimitedLog;
  private readonly labels = new BoundedLabels();
  private readonly dummy = dummyHash();
  /** Which user holds a client id (live, or its persistent session), so no other user takes it. */
  private readonly owners = new Map<string, { user: string; client: Client }>();
  private readonly now: () => number;
  private readonly verify: (password: string, hash: string) => Promise<boolean>;

  constructor(
    private readonly cfg: EmbeddedConfig,
    private readonly log: Logger,
    private readonly deps: BrokerDeps = {},
  ) {
    this.users = new Map(cfg.users.map((u) => [u.username, u]));
    this.access = new AccessRules(this.users, cfg.client_ids);
    this.now = deps.now ?? Date.now;
    this.verify = deps.verifyPassword ?? verifyPassword;
    this.limiter = new LoginLimiter({ maxFailures: cfg.max_login_failures, windowMs: cfg.login_failure_window, now: this.now });
    this.logLimit = new RateLimitedLog({ intervalMs: LOG_INTERVAL_MS, now: this.now });
  }

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
    return this.listeners?.ports.plain ?? 0;
  }

  /** Port of the mqtts listener (0 without one). */
  get tlsPort(): number {
    return this.listeners?.ports.tls ?? 0;
  }

  get url(): string {
    return `mqtt://${dialHost(this.cfg.host)}:${this.port}`;
  }

  connectedClients(): number {
    return this.aedes?.connectedClients ?? 0;
  }

  /** Sockets open on the listeners, logged in or not (what max_clients limits). */
  openSockets(): number {
    return this.listeners?.openSockets ?? 0;
  }

  async start(): Promise<void> {
    if (this.listeners) return;
    // aedes loads with the broker's start: a gateway without the embedded broker never pays for it.
    const { Aedes: AedesBroker } = await import('aedes');
    const aedes = await AedesBroker.createBroker({
      id: 'fcgw',
      concurrency: 1000,
      queueLimit: 1000,
      connectTimeout: this.cfg.connect_timeout,
      preConnect: (client, packet, done) => {
        // aedes names a client that sent no id itself; such a session cannot be anyone else's.
        (client as FcgwClient).fcgwNamedId = packet.clientId !== '';
        done(null, true);
      },
      authenticate: (client, username, password, done) => {
        this.authenticate(client as FcgwClient, username ?? undefined, password ?? undefined).then(
          (refusal) => (refusal ? done(connackError(refusal), false) : done(null, true)),
          (err: Error) => done(Object.assign(err, { returnCode: 3 as const }), false),
        );
      },
      authorizePublish: (client, packet, callback) => {
        const refusal = this.publishRefusal(client as FcgwClient | null, packet.topic, packet.payload.length);
        if (refusal) {
          this.refusedPublish(client as FcgwClient | null, packet.topic, refusal, packet.payload.length);
          // MQTT 3.1.1 has no negative PUBACK: the connection closes and the message is not acknowledged.
          return callback(new Error(refusal === 'payload_too_large' ? 'payload too large' : 'not authorised'));
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
        const own = (client as FcgwClient | null)?.fcgwUser === this.internalUser.username;
        if (this.held && !own) this.waiting.push(go);
        else go();
      },
      authorizeSubscribe: (client, sub, callback) => {
        const user = (client as FcgwClient).fcgwUser;
        if (user === this.internalUser.username) return callback(null, sub);
        const allowed = this.users.size === 0 ? !sub.topic.startsWith('$') : user !== undefined && this.access.maySubscribe(user, sub.topic);
        if (allowed) return callback(null, sub);
        this.deps.metrics?.brokerSubscribeRefused.inc({ user: user ?? '' });
        const suppressed = this.logLimit.take(`sub\u0000${user ?? ''}\u0000${sub.topic}`);
        if (suppressed !== undefined) this.log.warn({ user, client: client.id, filter: sub.topic, suppressed }, 'MQTT subscription refused (SUBACK 0x80)');
        // A null subscription is granted as 0x80 (failure): the client stays connected.
        callback(null, null);
      },
    });
    aedes.on('clientReady', (client) => (client.conn as unknown as FrameGuard).accept());
    aedes.on('clientDisconnect', (client) => {
      const o = this.owners.get(client.id);
      // A persistent session outlives its connection: its id stays its user's.
      if (o?.client === client && client.clean) this.owners.delete(client.id);
    });
    aedes.on('clientError', (client, err) => this.log.debug({ client: client.id, err: err.message }, 'MQTT client error'));
    aedes.on('connectionError', (_client, err) => this.log.debug({ err: err.message }, 'MQTT connection error'));
    this.aedes = aedes;
    const maxPacket = this.cfg.max_payload + HEADER_ALLOWANCE;
    const listeners = new Listeners(this.cfg, {
      accept: (socket: Socket, certUser) => {
        const guard = new FrameGuard(socket, {
          maxConnectPacket: this.cfg.max_connect_packet,
          maxPacket,
          connectTimeoutMs: this.cfg.connect_timeout,
          onRefuse: (reason, detail) => this.refusedConnection(reason, { address: socket.remoteAddress, ...detail }),
        });
        guard.certUser = certUser;
        aedes.handle(guard as unknown as Parameters<Aedes['handle']>[0]);
      },
      refuseFull: () => this.refusedConnection('max_clients', { max: this.cfg.max_clients }),
    });
    try {
      await listeners.start();
    } catch (err) {
      await listeners.stop();
      await new Promise<void>((r) => aedes.close(() => r()));
      this.aedes = undefined;
      throw err;
    }
    this.listeners = listeners;
    this.log.info({ url: this.url, ...(this.cfg.tls ? { mqtts: this.tlsPort } : {}), auth: this.users.size > 0 }, 'embedded MQTT broker listening');
  }

  /** Undefined when the login is good; else why it is refused. Never throws for a bad login. */
  private async authenticate(client: FcgwClient, username: string | undefined, password: Buffer | undefined): Promise<ConnectRefusal | undefined> {
    const internal = this.internalUser;
    if (username === internal.username && password && safeEqual(password, internal.password)) return this.bind(client, internal.username);
    if (this.users.size === 0) {
      // Anonymous (loopback only): anyone may connect, but not as one of the gateway's own clients.
      return this.owners.get(client.id)?.user === internal.username ? this.refusedLogin(client, 'client_id', username) : undefined;
    }
    const guard = client.conn as unknown as FrameGuard;
    if (guard.certUser !== undefined) {
      // A verified client certificate names its user; a username beside it must be the same.
      if ((username !== undefined && username !== guard.certUser) || !this.users.has(guard.certUser)) return this.refusedLogin(client, 'bad_login', guard.certUser);
      return this.bind(client, guard.certUser);
    }
    const address = addressKey(guard.remoteAddress ?? 'unknown');
    if (!this.limiter.begin(address)) return this.refusedLogin(client, 'rate_limited', username);
    const u = username !== undefined ? this.users.get(username) : undefined;
    // An unknown user is checked against a dummy hash: a refusal costs the same either way.
    const match = await this.checks.run(() => (client.closed ? Promise.resolve(false) : this.verify(password?.toString() ?? '', u?.password_hash ?? this.dummy)));
    const ok = match && u !== undefined && password !== undefined;
    this.limiter.end(address, ok);
    if (!ok || !u) return this.refusedLogin(client, 'bad_login', username);
    return this.bind(client, u.username);
  }

  /**
   * Bind the client to its user, if its client id is the user's to take. The gateway's own
   * clients (northbound sinks) always get theirs: no device user can lock a sink out.
   */
  private bind(client: FcgwClient, user: string): ConnectRefusal | undefined {
    const own = user === this.internalUser.username;
    if (!own) {
      if (client.fcgwNamedId !== false && !this.access.mayUseClientId(user, client.id)) return this.refusedLogin(client, 'client_id', user);
      const owner = this.owners.get(client.id);
      if (owner && owner.user !== user) return this.refusedLogin(client, 'client_id', user);
    }
    client.fcgwUser = user;
    this.owners.set(client.id, { user, client });
    return undefined;
  }

  private refusedLogin(client: FcgwClient, reason: ConnectRefusal, username: string | undefined): ConnectRefusal {
    const address = (client.conn as unknown as FrameGuard).remoteAddress;
    this.deps.metrics?.brokerConnectionsRefused.inc({ reason });
    const suppressed = this.logLimit.take(`login\u0000${reason}\u0000${address}`);
    if (suppressed !== undefined) this.log.warn({ reason, address, username, client: client.id, suppressed }, 'MQTT login refused');
    return reason;
  }

  private refusedConnection(reason: ConnectRefusal, detail: Record<string, unknown>): void {
    this.deps.metrics?.brokerConnectionsRefused.inc({ reason });
    const suppressed = this.logLimit.take(`conn\u0000${reason}\u0000${String(detail['address'])}`);
    if (suppressed !== undefined) this.log.warn({ reason, ...detail, suppressed }, 'MQTT connection closed');
  }

  private publishRefusal(client: FcgwClient | null, topic: string, bytes: number): PublishRefusal | undefined {
    if (topic.startsWith('$')) return 'dollar_topic';
    if (bytes > this.cfg.max_payload) return 'payload_too_large';
    const user = client?.fcgwUser;
    if (!client || this.users.size === 0 || user === this.internalUser.username) return undefined;
    return user !== undefined && this.access.mayPublish(user, topic) ? undefined : 'not_authorised';
  }

  private refusedPublish(client: FcgwClient | null, topic: string, reason: PublishRefusal, bytes: number): void {
    const user = client?.fcgwUser ?? '';
    this.deps.metrics?.brokerPublishRefused.inc({ user, topic: this.labels.topic(user, topic), reason });
    const suppressed = this.logLimit.take(`pub\u0000${user}\u0000${topic}`);
    if (suppressed !== undefined) this.log.warn({ user, client: client?.id, topic, reason, bytes, suppressed }, 'MQTT publish refused');
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
    const listeners = this.listeners;
    const aedes = this.aedes;
    this.listeners = undefined;
    this.aedes = undefined;
    // Held publishes were never acknowledged: refusing them makes their devices send them again.
    for (const go of this.waiting.splice(0)) go(new Error('broker stopping'));
    if (aedes) await new Promise<void>((r) => aedes.close(() => r()));
    if (listeners) await listeners.stop();
  }
}

/** CONNACK codes: 2 identifier rejected, 4 bad username or password, 5 not authorised (address held back). */
function connackError(refusal: ConnectRefusal): Error & { returnCode: 2 | 4 | 5 } {
  if (refusal === 'client_id') return Object.assign(new Error('client id not allowed for this user'), { returnCode: 2 as const });
  if (refusal === 'rate_limited') return Object.assign(new Error('too many failed logins from this address'), { returnCode: 5 as const });
  return Object.assign(new Error('bad username or password'), { returnCode: 4 as const });
}

function safeEqual(given: Buffer, expected: string): boolean {
  const e = Buffer.from(expected);
  return given.length === e.length && timingSafeEqual(given, e);
}
