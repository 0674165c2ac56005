import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import type { RPCServer } from 'ocpp-rpc';
import type { WebSocketServer, WebSocket } from 'ws';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { DeviceConfig, DiscoverConfig } from '../../gateway/model/site-config.js';
import type { BoundDevice, Driver, DriverContext, DriverHealth } from '../core/driver.js';
import type { Loaded, Profile } from '../profiles/schema.js';
import { centralSystemHandlers, type ChargePointPort, type ConnectorDevice } from './central-system.js';
import { csmsHandlers } from './central-system-201.js';
import { CHARGE_POINT_ID, type OcppConnection } from './connection-schema.js';
import { chargePointOf, connectorOf, discoveredId } from './devices.js';
import type { OcppProfile } from './profile-schema.js';
import { TransactionLedger } from './transactions.js';
import { parseHandshake, ProxySession } from './proxy.js';
import { ProxyOutbox } from './outbox.js';

type OcppProfileLoaded = Loaded<OcppProfile>;

/**
 * A proxy's own transaction ids (given while the operator is away, and kept for reading) start
 * here, so they never collide with the operator's in the messages it replays (int32 still).
 */
const PROXY_FIRST_TRANSACTION = 2_000_000_000;
/** Largest WebSocket message taken from a charger: OCPP-J calls are small (a long MeterValues is a few kB). */
export const MAX_FRAME_BYTES = 256 * 1024;
/** An open transaction older than this is dropped from the ledger at start. */
const OPEN_TRANSACTION_MAX_AGE_MS = 30 * 86_400_000;
/** Consecutive frames that are not OCPP-J after which a charger's connection is closed. */
const MAX_BAD_MESSAGES = 10;
/** The part of ocpp-rpc's server-side client this driver uses. */
interface RpcClient {
  identity: string;
  protocol: string | undefined;
  handle(method: string, h: (a: { params: Record<string, unknown> }) => Promise<Record<string, unknown>>): void;
  close(o?: { code?: number; reason?: string; force?: boolean }): Promise<unknown>;
  on(ev: string, f: (...a: unknown[]) => void): void;
}

export interface OcppDriverArgs {
  connection: OcppConnection;
  devices: BoundDevice<OcppProfileLoaded>[];
  discover: DiscoverConfig[];
  profiles: ReadonlyMap<string, Profile>;
  ctx: DriverContext;
}

/**
 * OCPP-J central system: listens for charge points (`ws(s)://host:port<path>/<id>`), admits the
 * configured ones and those a discovery rule names, checks each one's password (security
 * profiles 1 and 2), and answers their calls (central-system.ts). The RPC layer (ocpp-rpc, strict
 * mode) checks every call and answer against the standard's JSON schemas: a malformed call gets
 * a CallError, never a handler.
 */
export class OcppDriver implements Driver {
  readonly connectionId: string;
  private readonly c: OcppConnection;
  private readonly ctx: DriverContext;
  /** charge point id → connector → device. */
  private readonly known = new Map<string, Map<number, ConnectorDevice>>();
  private readonly rule: { rule: DiscoverConfig; profile: OcppProfileLoaded } | undefined;
  private readonly sessions = new Map<string, RpcClient>();
  private readonly lastSeen = new Map<string, number>();
  private readonly counters = { calls: 0, refused_connections: 0, rejections: 0, connections: 0 };
  private ledger: TransactionLedger | undefined;
  private http: Server | undefined;
  private rpc: RPCServer | undefined;
  private stopped = false;
  private proxyServer: WebSocketServer | undefined;
  private readonly proxies = new Map<string, ProxySession>();
  /** Proxy mode: what waits for the upstream, per charge point, across reconnects and restarts. */
  private outbox: ProxyOutbox | undefined;
  private readonly proxyCounters: Record<string, number> = {};

  constructor(private readonly args: OcppDriverArgs) {
    this.c = args.connection;
    this.ctx = args.ctx;
    this.connectionId = args.connection.id;
    for (const d of args.devices) {
      if (!d.config.enabled) continue;
      const cp = chargePointOf(d.config);
      const connector = connectorOf(d.config) ?? 1;
      const m = this.known.get(cp) ?? new Map<number, ConnectorDevice>();
      m.set(connector, { id: d.config.id, profile: d.profile });
      this.known.set(cp, m);
    }
    const r = args.discover.find((x) => x.connection === this.c.id);
    const p = r ? args.profiles.get(r.profile) : undefined;
    this.rule = r && p?.protocol === 'ocpp' ? { rule: r, profile: p as OcppProfileLoaded } : undefined;
  }

  /** Where it listens (after start), for tests and logs. */
  address(): { host: string; port: number } | undefined {
    const a = this.http?.address() as AddressInfo | null | undefined;
    return a ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    if (this.http) return;
    this.stopped = false;
    this.ledger ??= new TransactionLedger(this.ctx.dataDir, this.c.id, this.c.upstream ? PROXY_FIRST_TRANSACTION : 1);
    // A transaction whose stop never came (a charger replaced, a lost message) is forgotten after a while.
    this.ledger.prune(this.ctx.clock.now() - OPEN_TRANSACTION_MAX_AGE_MS);
    // The protocol libraries load with the first start (drivers/README.md: lazy loading).
    const [{ RPCServer }, { WebSocketServer }] = await Promise.all([import('ocpp-rpc'), import('ws')]);
    const rpc = new RPCServer({
      protocols: [...this.c.versions],
      strictMode: true,
      callTimeoutMs: this.c.call_timeout,
      respondWithDetailedErrors: true,
      // A charger that keeps sending what is not OCPP-J is cut off (it reconnects, counted).
      maxBadMessages: MAX_BAD_MESSAGES,
      wssOptions: { maxPayload: MAX_FRAME_BYTES },
    });
    rpc.on('error', (err: Error) => this.ctx.log.warn({ err }, 'OCPP listener error'));
    rpc.auth((accept, reject, handshake) => {
      const why = this.admit(handshake.endpoint, handshake.identity, handshake.password, handshake.protocols);
      if (why) {
        this.counters.refused_connections++;
        this.ctx.metrics.linkError(`refused_${why.reason}`);
        this.ctx.reject({ reason: `ocpp_${why.reason}`, detail: `charge point "${handshake.identity.slice(0, 60)}" from ${handshake.remoteAddress ?? '?'}: ${why.detail}` });
        reject(why.code, why.detail);
        return;
      }
      accept({ chargePoint: handshake.identity }, this.versionFor(handshake.identity, handshake.protocols));
    });
    rpc.on('client', (client: unknown) => this.attach(client as RpcClient));
    const tls = this.c.security_profile === 2 && this.c.tls ? this.c.tls : undefined;
    const http = tls
      ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key), ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}) })
      : createHttpServer();
    http.on('request', (_req, res) => {
      res.statusCode = 404;
      res.end();
    });
    if (this.c.upstream) {
      this.outbox ??= new ProxyOutbox(this.ctx.dataDir, this.c.id);
      if (this.outbox.waiting > 0) this.ctx.log.info({ waiting: this.outbox.waiting }, 'OCPP proxy: messages kept for the upstream from before the restart');
      this.proxyServer = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES, handleProtocols: (offered, req) => this.versionFor(parseHandshake(req).id, offered) ?? false });
      http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.proxyUpgrade(req, socket, head));
    } else http.on('upgrade', rpc.handleUpgrade);
    try {
      await new Promise<void>((resolve, reject) => {
        http.once('error', reject);
        http.listen(this.c.port, this.c.host, () => {
          http.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // Port taken or not ours: nothing may stay behind for the retry.
      await rpc.close({ force: true }).catch(() => undefined);
      this.proxyServer?.close();
      this.proxyServer = undefined;
      throw err;
    }
    http.on('error', (err) => this.ctx.log.error({ err }, 'OCPP listener error'));
    this.http = http;
    this.rpc = rpc;
    this.ctx.log.info({ connection: this.c.id, ...this.address(), path: this.c.path, tls: tls !== undefined }, 'OCPP central system listening');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const rpc = this.rpc;
    const http = this.http;
    this.rpc = undefined;
    this.http = undefined;
    if (rpc) await rpc.close({ force: true }).catch(() => undefined);
    for (const p of this.proxies.values()) p.close();
    this.proxies.clear();
    this.proxyServer?.close();
    this.proxyServer = undefined;
    this.sessions.clear();
    if (http) {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  }

  health(): DriverHealth {
    const devices: DriverHealth['devices'] = [];
    for (const [cp, m] of this.known) {
      const seen = this.lastSeen.get(cp);
      for (const d of m.values()) devices.push({ id: d.id, state: this.sessions.has(cp) || this.proxies.has(cp) ? 'online' : seen !== undefined ? 'offline' : 'unknown', ...(seen !== undefined ? { lastSeen: seen } : {}) });
    }
    return { connection: this.c.id, protocol: 'ocpp', state: this.http ? 'connected' : this.stopped ? 'stopped' : 'connecting', devices, counters: { ...this.counters, ...this.proxyCounters, charge_points: this.sessions.size + this.proxies.size } };
  }

  explain(deviceId: string): string[] {
    for (const [cp, m] of this.known) {
      for (const [n, d] of m) if (d.id === deviceId) return [`charge point ${cp} connector ${n}: ws${this.c.security_profile === 2 ? 's' : ''}://${this.c.host}:${this.c.port}${this.c.path === '/' ? '' : this.c.path}/${cp} (${this.c.versions.join(', ')})`];
    }
    return [];
  }

  /** The OCPP versions a charge point may speak here: its profile's, if it has one, among the offered. */
  private versionsFor(id: string): string[] {
    const p = this.known.get(id)?.values().next().value?.profile ?? this.rule?.profile;
    return p ? this.c.versions.filter((v) => v === p.version) : [...this.c.versions];
  }

  private versionFor(id: string, offered: Set<string>): string | undefined {
    return this.versionsFor(id).find((v) => offered.has(v));
  }

  /** Why a connection may not open, or undefined when it may. */
  private admit(endpoint: string, id: string, password: Buffer | undefined, protocols: Set<string>): { code: number; reason: string; detail: string } | undefined {
    if (this.stopped) return { code: 503, reason: 'stopping', detail: 'the gateway is stopping' };
    if (endpoint !== this.c.path) return { code: 404, reason: 'wrong_path', detail: `path ${endpoint.slice(0, 60)} is not ${this.c.path}` };
    if (!CHARGE_POINT_ID.test(id)) return { code: 400, reason: 'bad_identity', detail: 'not a charge point id' };
    if (!this.versionFor(id, protocols)) return { code: 400, reason: 'no_subprotocol', detail: `offers none of ${this.versionsFor(id).join(', ')}` };
    const known = this.known.has(id);
    if (!known && !(this.rule && discoveredId(this.rule.rule.id, id, 1))) return { code: 404, reason: 'unknown_charge_point', detail: 'not configured and no discovery rule admits it' };
    if (this.c.security_profile > 0) {
      const want = this.c.passwords[id] ?? this.c.password;
      if (want === undefined || password === undefined || !sameSecret(password, Buffer.from(want))) return { code: 401, reason: 'bad_password', detail: password === undefined ? 'no HTTP Basic password' : 'wrong password' };
    }
    if (!this.sessions.has(id) && !this.proxies.has(id) && this.sessions.size + this.proxies.size >= this.c.max_charge_points) return { code: 503, reason: 'too_many', detail: `${this.c.max_charge_points} charge points are connected already` };
    return undefined;
  }

  /** Proxy mode: the same admission as the central system, then a raw WebSocket mirrored upstream. */
  private proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const wss = this.proxyServer;
    const ledger = this.ledger;
    if (!wss || !ledger) return void socket.destroy();
    const { id, endpoint, password, protocols, authorization: auth } = parseHandshake(req);
    const why = this.admit(endpoint, id, password, protocols);
    if (why) {
      this.counters.refused_connections++;
      this.ctx.metrics.linkError(`refused_${why.reason}`);
      this.ctx.reject({ reason: `ocpp_${why.reason}`, detail: `charge point "${id.slice(0, 60)}" from ${req.socket.remoteAddress ?? '?'}: ${why.detail}` });
      socket.end(`HTTP/1.1 ${why.code} ${why.reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      this.proxies.get(id)?.close();
      const outbox = this.outbox as ProxyOutbox;
      const kept = outbox.entry(id);
      this.counters.connections++;
      this.lastSeen.set(id, this.ctx.clock.now());
      const handlers = ws.protocol === 'ocpp2.0.1' ? csmsHandlers(this.portFor(id, ledger)) : centralSystemHandlers(this.portFor(id, ledger));
      const session = new ProxySession(ws, {
        id,
        upstream: this.c.upstream as string,
        protocol: ws.protocol,
        authorization: auth,
        ca: this.c.upstream_ca ? readFileSync(this.c.upstream_ca) : undefined,
        callTimeout: this.c.call_timeout,
        handlers: Object.fromEntries(
          Object.entries(handlers).map(([a, h]) => [
            a,
            (p: Record<string, unknown>, verdict?: string) => {
              this.counters.calls++;
              this.lastSeen.set(id, this.ctx.clock.now());
              return h(p, verdict);
            },
          ]),
        ),
        log: this.ctx.log,
        queue: kept.queue,
        tx: kept.tx,
        counters: this.proxyCounters,
        changed: () => outbox.save(),
      });
      this.proxies.set(id, session);
      ws.on('close', () => {
        if (this.proxies.get(id) === session) this.proxies.delete(id);
      });
      this.ctx.log.info({ chargePoint: id, protocol: ws.protocol, upstream: this.c.upstream }, 'charge point connected (proxied)');
    });
  }

  private portFor(id: string, ledger: TransactionLedger): ChargePointPort {
    return {
      chargePoint: id,
      connection: this.c,
      ctx: this.ctx,
      ledger,
      device: (n) => this.device(id, n),
      refuse: (reason, detail, device) => {
        this.counters.rejections++;
        this.ctx.reject({ ...(device !== undefined ? { device } : {}), reason: `ocpp_${reason}`, detail: `${id}: ${detail}` });
      },
    };
  }

  private attach(client: RpcClient): void {
    const id = client.identity;
    const ledger = this.ledger;
    if (!ledger) return;
    // A charger that reconnects replaces its old connection (the old socket is often half dead).
    const old = this.sessions.get(id);
    if (old) void old.close({ code: 1000, reason: 'replaced by a new connection' }).catch(() => undefined);
    this.sessions.set(id, client);
    this.counters.connections++;
    this.lastSeen.set(id, this.ctx.clock.now());
    this.ctx.log.info({ chargePoint: id, protocol: client.protocol }, 'charge point connected');
    const port = this.portFor(id, ledger);
    const handlers = client.protocol === 'ocpp2.0.1' ? csmsHandlers(port) : centralSystemHandlers(port);
    for (const [action, h] of Object.entries(handlers)) {
      client.handle(action, async ({ params }) => {
        this.counters.calls++;
        this.lastSeen.set(id, this.ctx.clock.now());
        this.ctx.metrics.messages();
        return h(params);
      });
    }
    client.on('badMessage', (e: unknown) => port.refuse('bad_message', `not an OCPP-J frame: ${String((e as { error?: Error }).error?.message ?? '').slice(0, 120)}`));
    client.on('strictValidationFailure', (e: unknown) => {
      const v = e as { method?: string; error?: Error; outbound?: boolean };
      if (!v.outbound) port.refuse('schema_violation', `${String(v.method).slice(0, 40)}: ${String(v.error?.message ?? '').slice(0, 120)}`);
    });
    client.on('close', () => {
      if (this.sessions.get(id) === client) this.sessions.delete(id);
      this.ctx.log.info({ chargePoint: id }, 'charge point disconnected');
    });
  }

  /** A connector's device: configured, or made now by the discovery rule (connector 0 is the whole charger: none). */
  private device(cp: string, connector: number): ConnectorDevice | undefined {
    if (connector < 1) return undefined;
    const have = this.known.get(cp)?.get(connector);
    if (have) return have;
    const unknown = () => {
      this.counters.rejections++;
      this.ctx.reject({ reason: 'ocpp_unknown_connector', detail: `${cp}: connector ${connector} is no device (configure one with options.connector, or a discover rule)` });
      return undefined;
    };
    if (!this.rule || !this.ctx.addDevice) return unknown();
    const id = discoveredId(this.rule.rule.id, cp, connector);
    if (!id) return unknown();
    const config: DeviceConfig = {
      id,
      class: this.rule.rule.class,
      connection: this.c.id,
      profile: this.rule.profile.id,
      charge_point_id: cp,
      tags: { ...this.rule.rule.tags },
      options: { connector },
      enabled: true,
    };
    if (!this.ctx.addDevice(config, this.rule.profile)) {
      this.ctx.reject({ reason: 'ocpp_discovery_refused', detail: `${cp} connector ${connector}: the gateway refused device ${id}` });
      return undefined;
    }
    const d: ConnectorDevice = { id, profile: this.rule.profile };
    const m = this.known.get(cp) ?? new Map<number, ConnectorDevice>();
    m.set(connector, d);
    this.known.set(cp, m);
    return d;
  }
}

function sameSecret(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
