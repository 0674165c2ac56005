import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { Clock } from '../../gateway/model/clock.js';
import type { IngestBatch, Rejection } from '../../gateway/model/types.js';
import type { ConnectionConfig, DeviceConfig, DiscoverConfig } from '../../gateway/model/site-config.js';
import type { Profile } from '../profiles/schema.js';
import type { CommandRequest, CommandResult } from './commands.js';

/**
 * The Driver contract. One driver instance per connection (physical link or broker session).
 *
 * - `create(...)` (the factory) validates and does no I/O; config problems throw there and only there.
 * - `start()` connects and may be retried; it must not reject because a peer is down: the driver
 *   keeps retrying with backoff and reports it in `health()`.
 * - `stop()` is safe to call twice and leaves no timer, socket or listener behind.
 * - A driver never throws into the gateway: bad input becomes `ctx.reject(...)` or a bad-quality reading.
 */
export interface Driver {
  readonly connectionId: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): DriverHealth;
  /** How each device will be read (Modbus requests, topics, nodes), for `fcgw explain`. */
  explain?(deviceId: string): string[];
  /**
   * Carry out one command the gateway checked (gateway/control): write it and, where the protocol
   * can read, read the state back. Rejects with a coded error when the device refused or did not
   * answer. Optional: a driver without it takes no commands.
   */
  command?(req: CommandRequest): Promise<CommandResult>;
}

export type LinkState = 'connecting' | 'connected' | 'backoff' | 'stopped';
export type DeviceState = 'online' | 'offline' | 'quarantined' | 'unknown';

export interface DriverHealth {
  connection: string;
  protocol: string;
  state: LinkState;
  error?: string;
  devices: { id: string; state: DeviceState; error?: string; lastSeen?: number }[];
  counters?: Record<string, number>;
}

/** A device bound to its resolved profile (typed as its driver's profile schema infers it). */
export interface BoundDevice<P extends Profile = Profile> {
  config: DeviceConfig;
  profile: P;
}

/** What the gateway gives a driver. Everything a driver touches outside itself comes through here. */
export interface DriverContext {
  site: string;
  clock: Clock;
  log: Logger;
  dataDir: string;
  /**
   * Hand decoded readings and events to the pipeline. Resolves once they are committed to the
   * store (so an MQTT driver may acknowledge only then). Waits when the pipeline is full
   * (backpressure). Never rejects for bad data: that is counted as rejections.
   */
  ingest(batch: IngestBatch): Promise<void>;
  /** Count and log (rate-limited) something that could not be accepted. */
  reject(r: Rejection): void;
  /**
   * The link confirmed that these devices' values are still current without sending new ones
   * (an OPC UA subscription's keep-alive: nothing changed): they are not stale. Optional.
   */
  alive?(devices: readonly string[]): void;
  /** Register a device found at run time (MQTT discovery). Returns false when a limit forbids it. */
  addDevice?(device: DeviceConfig, profile: Profile): boolean;
  metrics: DriverMetrics;
  /**
   * The gateway's embedded broker, when configured. An MQTT connection with url `embedded` should
   * use `intercept` (runs before the broker's PUBACK, so a PUBACK means committed) rather than a
   * socket client; `url` and `internalUser` are there for clients that need a real connection.
   */
  embeddedBroker?: EmbeddedBrokerHandle;
  /** Where the configured embedded broker listens, for a driver built while it is not running (`fcgw explain`). */
  embeddedBrokerAddress?: { host: string; port: number };
}

export interface EmbeddedBrokerHandle {
  readonly url: string;
  readonly internalUser: { username: string; password: string };
  intercept(fn: (topic: string, payload: Buffer, clientId: string) => Promise<void> | void): () => void;
  /** Publish to the broker's clients (a command to a device). */
  publish?(topic: string, payload: string | Buffer, opts?: { qos?: 0 | 1; retain?: boolean }): Promise<void>;
}

export type { IngestBatch } from '../../gateway/model/types.js';

/** Metrics a driver may report; the gateway turns them into Prometheus series. */
export interface DriverMetrics {
  /** A request/poll round trip, by device, in seconds. */
  pollLatency(device: string, seconds: number): void;
  /** A link or device error, by kind (timeout, exception_2, disconnect…). */
  linkError(kind: string, device?: string): void;
  /** Messages received (MQTT) or requests sent (Modbus). */
  messages(n?: number): void;
}

/** A problem a driver finds in the config or a profile: where (path from the config or profile root) and what. */
export interface DriverProblem {
  path: (string | number)[];
  message: string;
}

/** What a driver's cross-checks see: its own connections, devices and discovery rules, already shape-checked. */
export interface DriverCheckInput<C extends ConnectionConfig, P extends Profile> {
  /** Connections of this driver, parsed by its `connectionSchema`, with their index in `connections`. */
  connections: readonly { index: number; connection: C }[];
  /** Devices on those connections whose profile this driver reads (profile class already checked). */
  devices: readonly { index: number; config: DeviceConfig; profile: P; connection: C }[];
  /** Discovery rules on those connections. */
  discover: readonly { index: number; rule: DiscoverConfig; profile: P; connection: C }[];
  /** Facts of the rest of the config a driver may need to judge its own settings. */
  site: { embeddedBroker: boolean };
}

/** What a profile says about one metric of a device, for the pipeline and the KPIs (gateway/site). */
export interface PointFacts {
  /** Unit the driver reports the value in (before the pipeline converts it). */
  unit?: string;
  /** Reported value = raw register value × scale (+ offset); known only for fixed scales. */
  scale?: number;
  /** Largest raw value + 1 that the register can hold (uint16: 65536): where a raw counter wraps. */
  rawRange?: number;
}

/**
 * A driver registers this (drivers/index.ts, one line). It owns everything protocol-specific the
 * gateway's one validation (gateway/site) needs: the connection schema for its protocols, the
 * profile schema, the checks that span its connections, devices, discovery rules and profiles,
 * and the facts a profile declares about each series. The gateway core knows no protocol.
 */
export interface DriverFactory<C extends ConnectionConfig = ConnectionConfig, P extends Profile = Profile> {
  /** The connection protocols this driver serves. */
  readonly protocols: readonly string[];
  /** The `connections[]` entries of those protocols (id and protocol included). Types come from it. */
  readonly connectionSchema: ZodType<C>;
  /** The `protocol:` value of the profiles this driver reads, and their zod schema (whole profile). */
  readonly profileProtocol: string;
  readonly profileSchema: ZodType<Omit<P, 'file'>>;
  /** Whether `discover` rules may name this driver's connections. */
  readonly discovers?: boolean;
  /** Checks of one profile beyond its schema (catalog metrics and units, overlapping registers). */
  checkProfile?(profile: P): DriverProblem[];
  /** Checks across this driver's connections, devices and rules (paths from the config root). */
  check?(input: DriverCheckInput<C, P>): DriverProblem[];
  /** What the profile declares about each metric a device of `cls` reports, by metric. */
  pointFacts?(profile: P, cls: string): ReadonlyMap<string, PointFacts>;
  /**
   * Decode a golden file's cases (raw input as the device says it) through this driver's own
   * decode path (drivers/core/golden.ts); `fcgw profile test` and test/golden run them. Optional.
   */
  golden?(profile: P, doc: import('./golden.js').GoldenDoc): Promise<import('./golden.js').GoldenDecoded[]>;
  /** Capture what one device says on the wire (`fcgw record`, drivers/core/recording.ts). Optional; does I/O. */
  record?(args: import('./recording.js').RecordArgs<C, P>): Promise<void>;
  /** A recording as golden cases of this driver (`fcgw replay`). */
  fromRecording?(profile: P, rec: import('./recording.js').Recording): import('./golden.js').GoldenDoc;
  create(args: {
    connection: C;
    devices: BoundDevice<P>[];
    discover: DiscoverConfig[];
    /** Every loaded profile by id (discovery rules name theirs). */
    profiles: ReadonlyMap<string, Profile>;
    ctx: DriverContext;
  }): Driver;
  /**
   * Walk a live server to help write a profile (`fcgw explain --browse`): from the device's place
   * in it when a device is given, else from the top. Optional; does I/O.
   */
  browse?(args: { connection: C; dataDir: string; device?: DeviceConfig; profile?: P; depth?: number }): Promise<string[]>;
  /**
   * Ask the one device on a bus for its address (a wildcard read: `fcgw explain --probe` on a
   * connection), for a meter whose label cannot be read. Optional; does I/O. Lines to print, and
   * whether a single device answered.
   */
  findAddress?(args: { connection: C; log: import('pino').Logger }): Promise<{ lines: string[]; address?: string }>;
}
