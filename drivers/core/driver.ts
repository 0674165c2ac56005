import type { Logger } from 'pino';
import type { ZodType } from 'zod';
import type { Clock } from '../../gateway/model/clock.js';
import type { EventReading, Reading, Rejection } from '../../gateway/model/types.js';
import type { ConnectionConfig, DeviceConfig, DiscoverConfig, GatewayConfig } from '../../gateway/config/schema.js';
import type { Profile } from '../profiles/schema.js';

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

/** A device bound to its resolved profile. */
export interface BoundDevice {
  config: DeviceConfig;
  profile: Profile;
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
}

export interface EmbeddedBrokerHandle {
  readonly url: string;
  readonly internalUser: { username: string; password: string };
  intercept(fn: (topic: string, payload: Buffer, clientId: string) => Promise<void> | void): () => void;
}

export interface IngestBatch {
  readings?: Reading[];
  events?: EventReading[];
}

/** Metrics a driver may report; the gateway turns them into Prometheus series. */
export interface DriverMetrics {
  /** A request/poll round trip, by device, in seconds. */
  pollLatency(device: string, seconds: number): void;
  /** A link or device error, by kind (timeout, exception_2, disconnect…). */
  linkError(kind: string, device?: string): void;
  /** Messages received (MQTT) or requests sent (Modbus). */
  messages(n?: number): void;
}

export interface DriverFactory {
  /** The connection protocols this driver serves. */
  readonly protocols: readonly ConnectionConfig['protocol'][];
  /** The `protocol:` value of the profiles this driver reads, and their zod schema (whole profile). */
  readonly profileProtocol: string;
  readonly profileSchema: ZodType;
  create(args: {
    connection: ConnectionConfig;
    devices: BoundDevice[];
    discover: DiscoverConfig[];
    config: Readonly<GatewayConfig>;
    /** Every loaded profile by id (discovery rules name theirs). */
    profiles: ReadonlyMap<string, Profile>;
    ctx: DriverContext;
  }): Driver;
  /**
   * Walk a live server to help write a profile (`fcgw explain --browse`): from the device's place
   * in it when a device is given, else from the top. Optional; does I/O.
   */
  browse?(args: { connection: ConnectionConfig; dataDir: string; device?: DeviceConfig; profile?: Profile; depth?: number }): Promise<string[]>;
}
