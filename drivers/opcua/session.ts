import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type { ClientSession, ClientSubscription, DataValue, OPCUAClient, OPCUAClientOptions, UserIdentityInfo } from 'node-opcua-client';
import type { OpcuaConnection } from './connection-schema.js';
import { APPLICATION_NAME, APPLICATION_URI, clientCertificateManager } from './certificates.js';
import type { Logger } from 'pino';
import { routeNodeOpcuaLogs } from './logs.js';
import { resolveNodeId, type PlannedNode } from './nodes.js';
import type { NodeMapping } from './quality.js';
import { unitFromEu } from './units.js';
import { loadOpcua, type OpcuaLib } from './library.js';

export type { OpcuaConnection } from './connection-schema.js';

/** A planned node found on the server: its node id there and the unit its values are in. */
export interface ResolvedNode extends PlannedNode {
  id: string;
  /** The unit used for its readings: the server's EngineeringUnits when recognised, else the profile's. */
  effectiveUnit?: string;
  /** Where the unit came from, for `fcgw explain` and the logs. */
  unitSource?: 'server' | 'profile';
  /** How its values become readings; final once the units are read (before any data arrives). */
  mapping: NodeMapping;
}

export interface LinkEvents {
  data(node: ResolvedNode, dv: DataValue, receivedAt: number): void;
  /** A subscription's publish cycle (a keep-alive or notifications) confirmed these devices' monitored values are current. */
  alive(devices: readonly string[]): void;
  /** A node that could not be found or monitored (its status name as the reason). */
  missing(node: PlannedNode, reason: string): void;
  /** The connection went away (node-opcua then reconnects and restores the session by itself). */
  lost(): void;
  restored(): void;
  /** The client gave up (closed): the driver builds everything again. */
  closed(err?: Error): void;
  backoff(attempt: number, err?: Error): void;
}

/** Requests of at most this many nodes (servers announce limits; 500 is under every common one). */
const CHUNK = 500;

/** A client with the gateway's identity, certificates and the connection's security. */
export function createClient(
  ua: OpcuaLib,
  c: OpcuaConnection,
  certificateManager: OPCUACertificateManager,
  options: Omit<OPCUAClientOptions, 'applicationName' | 'applicationUri' | 'clientCertificateManager' | 'securityMode' | 'securityPolicy' | 'endpointMustExist'>,
): OPCUAClient {
  return ua.OPCUAClient.create({
    applicationName: APPLICATION_NAME,
    applicationUri: APPLICATION_URI,
    clientCertificateManager: certificateManager,
    securityMode: ua.MessageSecurityMode[c.security_mode],
    securityPolicy: ua.SecurityPolicy[c.security_policy],
    endpointMustExist: false,
    ...options,
  });
}

/** The connection's user name and password, else anonymous. */
export function identityOf(ua: OpcuaLib, c: OpcuaConnection): UserIdentityInfo {
  return c.username !== undefined ? { type: ua.UserTokenType.UserName, userName: c.username, password: c.password ?? '' } : { type: ua.UserTokenType.Anonymous };
}

function mappingOf(n: ResolvedNode): NodeMapping {
  const m: NodeMapping = { metric: n.metric };
  if (n.effectiveUnit !== undefined) m.unit = n.effectiveUnit;
  if (n.scale !== undefined) m.scale = n.scale;
  if (n.offset !== undefined) m.offset = n.offset;
  if (n.map) m.map = n.map;
  return m;
}

function chunks<T>(xs: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * One client, one session and its subscriptions (one per publishing interval, one monitored item
 * per node) — or reads on a timer for the nodes in poll mode and where the server cannot subscribe.
 * node-opcua reconnects a lost channel and re-activates or re-creates the session, transferring or
 * re-creating its subscriptions; `closed` tells the driver when that failed for good.
 */
export class UaLink {
  client: OPCUAClient | undefined;
  session: ClientSession | undefined;
  private subscriptions: ClientSubscription[] = [];
  private timers: NodeJS.Timeout[] = [];
  private closing = false;
  resolved: ResolvedNode[] = [];
  polled: ResolvedNode[] = [];
  namespaces: string[] = [];
  private static cm = new Map<string, Promise<OPCUACertificateManager>>();

  constructor(
    private readonly c: OpcuaConnection,
    private readonly nodes: readonly PlannedNode[],
    private readonly dataDir: string,
    private readonly on: LinkEvents,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  async open(): Promise<void> {
    const ua = loadOpcua();
    routeNodeOpcuaLogs(ua, this.log);
    const key = `${this.dataDir}\u0000${this.c.trusted_certificates.join('\u0000')}`;
    let cm = UaLink.cm.get(key);
    if (!cm) {
      cm = clientCertificateManager(ua, this.dataDir, this.c.trusted_certificates);
      // A failed set-up (an unreadable certificate file) is tried again at the next connect.
      cm.catch(() => UaLink.cm.delete(key));
      UaLink.cm.set(key, cm);
    }
    const client = createClient(ua, this.c, await cm, {
      keepSessionAlive: true,
      requestedSessionTimeout: 60_000,
      transportTimeout: this.c.timeout,
      defaultTransactionTimeout: this.c.timeout,
      // The first connect gives up after one retry (the driver backs off and reports it); once
      // connected, node-opcua repairs a lost channel with retries of its own until closed.
      connectionStrategy: { initialDelay: 250, maxDelay: this.c.reconnect_max, maxRetry: 1, randomisationFactor: 0.2 },
    });
    this.client = client;
    client.on('backoff', (n: number, _delay: number, err?: Error) => this.on.backoff(n, err));
    client.on('connection_lost', () => this.on.lost());
    client.on('connection_reestablished', () => this.on.restored());
    client.on('close', (err?: Error | null) => {
      if (!this.closing) this.on.closed(err ?? undefined);
    });
    await client.connect(this.c.endpoint);
    const session = await client.createSession(identityOf(ua, this.c));
    this.session = session;
    session.on('session_restored', () => this.on.restored());
    this.namespaces = await session.readNamespaceArray();
    await this.resolve(ua, session);
    await this.subscribe(ua, session);
    this.startPolling(ua, session);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const { client, session } = this;
    this.client = undefined;
    this.session = undefined;
    this.subscriptions = [];
    try {
      if (session) await session.close(true);
    } catch {
      /* the server may be gone already */
    }
    try {
      if (client) await client.disconnect();
    } catch {
      /* nothing left to release */
    }
  }

  private async resolve(ua: OpcuaLib, session: ClientSession): Promise<void> {
    const resolved: (ResolvedNode | undefined)[] = this.nodes.map(() => undefined);
    /** Nodes found by browse path, with the namespace index of their unprefixed names. */
    const byPath: { i: number; ns: number }[] = [];
    this.nodes.forEach((n, i) => {
      if (n.nodeId !== undefined) {
        const r = resolveNodeId(n.nodeId, this.namespaces);
        if ('error' in r) this.on.missing(n, 'BadNodeIdUnknown');
        else resolved[i] = { ...n, id: r.id, mapping: { metric: n.metric } };
        return;
      }
      const ns = n.namespace !== undefined ? this.namespaces.indexOf(n.namespace) : 0;
      // A namespace the server does not have: none of the node's names can match.
      if (ns < 0) this.on.missing(n, 'BadNoMatch');
      else byPath.push({ i, ns });
    });
    for (const part of chunks(byPath)) {
      const paths = part.map(({ i, ns }) => {
        const n = this.nodes[i] as PlannedNode;
        return {
          startingNode: ua.resolveNodeId('ObjectsFolder'),
          relativePath: {
            elements: (n.path ?? []).map((s) => ({
              referenceTypeId: ua.resolveNodeId('HierarchicalReferences'),
              isInverse: false,
              includeSubtypes: true,
              targetName: { namespaceIndex: s.ns ?? ns, name: s.name },
            })),
          },
        };
      });
      const results = await session.translateBrowsePath(paths);
      part.forEach(({ i }, k) => {
        const n = this.nodes[i] as PlannedNode;
        const r = results[k];
        const target = r?.targets?.[0]?.targetId;
        if (!r || !r.statusCode.isGood() || !target) this.on.missing(n, r?.statusCode.name ?? 'BadNoMatch');
        else resolved[i] = { ...n, id: target.toString(), mapping: { metric: n.metric } };
      });
    }
    this.resolved = resolved.filter((r): r is ResolvedNode => r !== undefined);
    await this.readUnits(ua, session);
  }

  /** EngineeringUnits of each node (a property of AnalogItems), when the server gives them. */
  private async readUnits(ua: OpcuaLib, session: ClientSession): Promise<void> {
    for (const part of chunks(this.resolved)) {
      const found = await session.translateBrowsePath(
        part.map((n) => ({
          startingNode: ua.resolveNodeId(n.id),
          relativePath: { elements: [{ referenceTypeId: ua.resolveNodeId('HasProperty'), isInverse: false, includeSubtypes: true, targetName: { namespaceIndex: 0, name: 'EngineeringUnits' } }] },
        })),
      );
      const withEu = part.map((n, k) => ({ n, id: found[k]?.statusCode.isGood() ? found[k]?.targets?.[0]?.targetId : undefined })).filter((x) => x.id);
      const values = withEu.length ? await session.read(withEu.map((x) => ({ nodeId: ua.resolveNodeId(String(x.id)), attributeId: ua.AttributeIds.Value }))) : [];
      withEu.forEach((x, k) => {
        const eu = values[k]?.value?.value as Parameters<typeof unitFromEu>[0];
        const unit = unitFromEu(eu);
        if (unit !== undefined) {
          x.n.effectiveUnit = unit;
          x.n.unitSource = 'server';
        } else if (x.n.unit === undefined && eu?.displayName?.text) {
          // A unit we cannot convert: say so through the pipeline (unit_mismatch), never guess.
          x.n.effectiveUnit = eu.displayName.text;
          x.n.unitSource = 'server';
        }
      });
    }
    for (const n of this.resolved) {
      if (n.effectiveUnit === undefined && n.unit !== undefined) {
        n.effectiveUnit = n.unit;
        n.unitSource = 'profile';
      }
      n.mapping = mappingOf(n);
    }
  }

  private async subscribe(ua: OpcuaLib, session: ClientSession): Promise<void> {
    const subscribed = this.resolved.filter((n) => n.mode === 'subscribe');
    this.polled = this.resolved.filter((n) => n.mode === 'poll');
    const byInterval = new Map<number, ResolvedNode[]>();
    for (const n of subscribed) byInterval.set(n.publishingInterval, [...(byInterval.get(n.publishingInterval) ?? []), n]);
    for (const [interval, nodes] of byInterval) {
      let sub: ClientSubscription;
      try {
        sub = await session.createSubscription2({
          requestedPublishingInterval: interval,
          requestedMaxKeepAliveCount: 10,
          requestedLifetimeCount: 60,
          maxNotificationsPerPublish: 0,
          publishingEnabled: true,
          priority: 1,
        });
      } catch {
        // A server without subscriptions (or out of them): read these nodes instead.
        this.polled.push(...nodes);
        continue;
      }
      this.subscriptions.push(sub);
      // Exception-based items report only changes: a server's keep-alive (or any publish) says
      // the values it did not send are still the current ones, so their devices are not quiet.
      const devices = [...new Set(nodes.map((n) => n.device))];
      sub.on('keepalive', () => this.on.alive(devices));
      sub.on('received_notifications', () => this.on.alive(devices));
      const groups = new Map<string, ResolvedNode[]>();
      for (const n of nodes) {
        const k = `${n.samplingInterval}/${n.queueSize}/${n.trigger}`;
        groups.set(k, [...(groups.get(k) ?? []), n]);
      }
      for (const group of groups.values()) {
        for (const part of chunks(group)) {
          const first = part[0] as ResolvedNode;
          const items = await sub.monitorItems(
            part.map((n) => ({ nodeId: ua.resolveNodeId(n.id), attributeId: ua.AttributeIds.Value })),
            {
              samplingInterval: first.samplingInterval,
              queueSize: first.queueSize,
              discardOldest: true,
              filter: new ua.DataChangeFilter({
                trigger: first.trigger === 'status_value_timestamp' ? ua.DataChangeTrigger.StatusValueTimestamp : ua.DataChangeTrigger.StatusValue,
                deadbandType: ua.DeadbandType.None,
              }),
            },
            ua.TimestampsToReturn.Both,
          );
          items.on('changed', (_item, dv, index) => {
            const n = part[index];
            if (n) this.on.data(n, dv, this.now());
          });
          items.monitoredItems.forEach((m, k) => {
            const n = part[k];
            const sc = m.statusCode;
            if (!n || !sc || sc.isGood()) return;
            if (sc.name === 'BadNodeIdUnknown' || sc.name === 'BadNodeIdInvalid' || sc.name === 'BadAttributeIdInvalid') this.on.missing(n, sc.name);
            else this.polled.push(n);
          });
        }
      }
    }
  }

  private startPolling(ua: OpcuaLib, session: ClientSession): void {
    const byPeriod = new Map<number, ResolvedNode[]>();
    for (const n of this.polled) byPeriod.set(n.pollMs, [...(byPeriod.get(n.pollMs) ?? []), n]);
    for (const [period, nodes] of byPeriod) {
      let busy = false;
      const read = async () => {
        if (busy || this.closing) return;
        busy = true;
        try {
          for (const part of chunks(nodes)) {
            const dvs = await session.read(part.map((n) => ({ nodeId: ua.resolveNodeId(n.id), attributeId: ua.AttributeIds.Value })), 0);
            const at = this.now();
            dvs.forEach((dv, k) => {
              const n = part[k];
              if (n) this.on.data(n, dv, at);
            });
          }
        } catch {
          /* the connection is down; node-opcua is reconnecting, the next period tries again */
        } finally {
          busy = false;
        }
      };
      void read();
      this.timers.push(setInterval(() => void read(), period));
    }
  }
}
