import type { Logger } from 'pino';
import type { Driver, DriverHealth, EmbeddedBrokerHandle } from '../../drivers/core/driver.js';
import { driverFor } from '../../drivers/index.js';
import type { Profile } from '../../drivers/profiles/schema.js';
import type { ConnectionConfig, GatewayConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import type { Ingestor } from '../pipeline/ingest.js';
import type { StalenessTracker } from '../pipeline/staleness.js';
import type { DeviceRegistry } from './devices.js';
import { driverContext } from './driver-context.js';
import { GatewayError } from './errors.js';
import type { GatewayMetrics } from './metrics.js';

export interface DriverSetDeps {
  /** The config in force (a reload replaces it). */
  config(): Readonly<GatewayConfig>;
  /** Every loaded profile by id (a reload loads them again). */
  profiles(): ReadonlyMap<string, Profile>;
  devices: DeviceRegistry;
  clock: Clock;
  log: Logger;
  dataDir: string;
  ingestor: Ingestor;
  metrics: GatewayMetrics;
  staleness: StalenessTracker;
  broker?: EmbeddedBrokerHandle;
}

/** The running drivers, one per connection. */
export class DriverSet {
  private readonly list: Driver[] = [];

  constructor(private readonly d: DriverSetDeps) {}

  /** A connection's driver over the registry's devices on it (validates; no I/O). */
  create(conn: ConnectionConfig): Driver {
    const d = this.d;
    const config = d.config();
    const factory = driverFor(conn.protocol);
    if (!factory) throw new GatewayError('DRIVER_MISSING', `connection ${conn.id}: no driver for protocol ${conn.protocol}`);
    // Configured devices; discovered ones are found again by the driver's discovery rules.
    const devices = d.devices
      .all()
      .filter((x) => x.config.connection === conn.id && !x.discovered)
      .map((x) => ({ config: x.config, profile: x.profile }));
    const discover = config.discover.filter((r) => r.connection === conn.id);
    return factory.create({
      connection: conn,
      devices,
      discover,
      profiles: d.profiles(),
      ctx: driverContext({
        connection: conn.id,
        site: config.site.id,
        clock: d.clock,
        log: d.log.child({ connection: conn.id }),
        dataDir: d.dataDir,
        ingestor: d.ingestor,
        metrics: d.metrics,
        devices: d.devices,
        staleness: d.staleness,
        discover,
        ...(d.broker ? { broker: d.broker } : {}),
      }),
    });
  }

  /** Build and start a driver for each connection, in order. */
  async start(connections: readonly ConnectionConfig[]): Promise<void> {
    for (const conn of connections) {
      const driver = this.create(conn);
      this.list.push(driver);
      await driver.start();
    }
  }

  /** Stop the drivers of these connections, then start `fresh` ones (built with `create`). */
  async replace(connectionIds: readonly string[], fresh: readonly Driver[]): Promise<void> {
    for (const old of this.list.filter((x) => connectionIds.includes(x.connectionId)).reverse()) {
      this.list.splice(this.list.indexOf(old), 1);
      await old.stop().catch((err: unknown) => this.d.log.warn({ err, connection: old.connectionId }, 'error while stopping a connection'));
    }
    for (const driver of fresh) {
      this.list.push(driver);
      await driver.start();
    }
  }

  /** Stop every driver, the last started first; `step` reports what fails. */
  async stop(step: (what: string, fn: () => Promise<unknown>) => Promise<void>): Promise<void> {
    for (const driver of [...this.list].reverse()) await step(`driver ${driver.connectionId}`, () => driver.stop());
  }

  health(): DriverHealth[] {
    return this.list.map((x) => x.health());
  }

  get(connectionId: string): Driver | undefined {
    return this.list.find((x) => x.connectionId === connectionId);
  }
}
