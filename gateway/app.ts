import type { FastifyInstance } from 'fastify';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Driver, DriverHealth } from '../drivers/core/driver.js';
import type { Profile } from '../drivers/profiles/schema.js';
import { startConfiguredSimulators, type RunningSimulators } from '../simulators/index.js';
import { buildApi, type ApiPlugin, type DeviceView, type HealthReport } from './api/server.js';
import { LiveHub } from './api/live.js';
import { webPlugin } from './api/static.js';
import { EmbeddedBroker } from './broker/embedded.js';
import { createKpiEngine, kpiApiPlugin, type KpiEngine } from './kpi/index.js';
import type { GatewayConfig } from './config/schema.js';
import { AcceleratedClock, systemClock, type Clock } from './model/clock.js';
import { CounterState } from './pipeline/counters.js';
import { Ingestor } from './pipeline/ingest.js';
import { Dedupe } from './pipeline/normalise.js';
import { loadSiteSecret, Pseudonymiser } from './pipeline/pseudonymise.js';
import { StalenessTracker } from './pipeline/staleness.js';
import { DeviceActivity } from './runtime/activity.js';
import { DeviceRegistry } from './runtime/devices.js';
import { GatewayError } from './runtime/errors.js';
import { planReload, resolveProfiles, type ReconfigureResult } from './runtime/reload-plan.js';
import { DriverSet } from './runtime/driver-set.js';
import { healthReport } from './runtime/health.js';
import { explainDevice, probeDevice } from './runtime/explain.js';
import { GatewayMetrics } from './runtime/metrics.js';
import { Maintenance } from './runtime/maintenance.js';
import { createSinks, type Sinks } from './sinks/index.js';
import { Store } from './store/store.js';

export interface GatewayOptions {
  config: Readonly<GatewayConfig>;
  log: Logger;
  /** Default: the system clock, or the simulators' accelerated clock when they run faster than real time. */
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Extra API route modules. */
  apiPlugins?: ApiPlugin[];
  /** Register default process metrics (off in tests that build many gateways). */
  processMetrics?: boolean;
  /** On stop, how long the sinks may keep sending what is committed (default 5 s; the rest waits in the store). */
  sinkFlushMs?: number;
}

export { GatewayError } from './runtime/errors.js';
export type { ReconfigureResult } from './runtime/reload-plan.js';

/**
 * The composition root: a validated config becomes a wired gateway. `create` only builds
 * objects; `start` opens the store, the broker, the drivers, the API and (in a demo) the
 * simulators; `stop` undoes it in reverse and flushes the store.
 */
export class Gateway {
  private current: Readonly<GatewayConfig>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: GatewayMetrics;
  readonly live = new LiveHub();
  /** Every loaded profile by id (a reload loads them again). */
  profiles: Map<string, Profile>;
  readonly startedAt: number;
  store!: Store;
  ingestor!: Ingestor;
  devices!: DeviceRegistry;
  broker: EmbeddedBroker | undefined;
  api: FastifyInstance | undefined;
  simulators: RunningSimulators | undefined;
  private drivers!: DriverSet;
  private kpi: KpiEngine | undefined;
  private activity!: DeviceActivity;
  private readonly staleness: StalenessTracker;
  private maintenance: Maintenance | undefined;
  private sinks: Sinks | undefined;
  private readonly stopHooks: (() => Promise<void> | void)[] = [];
  private state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created';

  static create(opts: GatewayOptions): Gateway {
    return new Gateway(opts);
  }

  private constructor(private readonly opts: GatewayOptions) {
    this.current = opts.config;
    this.log = opts.log;
    const sim = opts.config.simulators;
    this.clock =
      opts.clock ??
      (sim.enabled && (sim.speed !== 1 || sim.start)
        ? new AcceleratedClock(sim.start ? Date.parse(sim.start) : Date.now(), sim.speed)
        : systemClock);
    this.startedAt = this.clock.now();
    this.metrics = new GatewayMetrics({ defaults: opts.processMetrics ?? true });
    this.profiles = resolveProfiles(this.config, this.log);
    // Poll periods run on wall-clock timers; under an accelerated clock three of them span
    // `rate` times more clock time, so a polled device is not called quiet between two polls.
    this.staleness = new StalenessTracker((id) => {
      const d = this.devices.get(id)?.config;
      return d?.stale_after ?? Math.max(this.config.pipeline.stale_after, 3 * (d?.poll ?? 0) * (this.clock.rate ?? 1));
    });
  }

  /** The config in force (a reload applied in place replaces it). */
  get config(): Readonly<GatewayConfig> {
    return this.current;
  }

  get dataDir(): string {
    return this.config.store.path === ':memory:' ? resolve('data') : dirname(resolve(this.config.store.path));
  }

  onStop(fn: () => Promise<void> | void): void {
    this.stopHooks.push(fn);
  }

  async start(): Promise<void> {
    if (this.state !== 'created') throw new GatewayError('START_FAILED', `cannot start a gateway that is ${this.state}`);
    this.state = 'starting';
    const cfg = this.config;
    try {
      this.store = Store.open({ path: cfg.store.path, site: cfg.site.id, clock: this.clock, log: this.log, checkpointThread: true });
      const secret = loadSiteSecret({
        envName: cfg.privacy.secret_env,
        file: cfg.privacy.secret_file ?? join(this.dataDir, 'site-secret'),
        ...(this.opts.env ? { env: this.opts.env } : {}),
        log: this.log,
      });
      this.devices = new DeviceRegistry(this.store);
      for (const d of cfg.devices) if (d.enabled) this.devices.add(d, this.profiles.get(d.profile) as Profile, false);
      this.activity = new DeviceActivity(this.store, this.devices, this.staleness);
      this.activity.restore(cfg, this.profiles, this.clock.now());
      this.ingestor = new Ingestor({
        store: this.store,
        metrics: this.metrics,
        log: this.log.child({ part: 'ingest' }),
        maxRows: cfg.store.batch.max_rows,
        maxDelayMs: cfg.store.batch.max_delay,
        queueMax: cfg.pipeline.queue_max,
        normalise: {
          site: cfg.site.id,
          deviceClass: (id) => this.devices.classOf(id),
          counters: new CounterState(),
          dedupe: new Dedupe(),
          pseudo: new Pseudonymiser(secret),
          now: () => this.clock.now(),
        },
      });
      this.ingestor.onCommit((samples, events) => {
        this.live.publishCommitted(samples, events);
        if (events.length) this.activity.noteEvents(events, this.clock.now());
      });

      if (cfg.broker.embedded) {
        this.broker = new EmbeddedBroker(cfg.broker.embedded, this.log.child({ part: 'broker' }), { metrics: this.metrics });
        this.broker.hold();
        await this.broker.start();
      }
      // Simulators first (the drivers' Modbus and OPC UA peers are then listening), drivers next;
      // the broker holds what devices publish meanwhile and acknowledges it once drivers run.
      if (cfg.simulators.enabled) {
        this.simulators = await startConfiguredSimulators(cfg, { clock: this.clock, log: this.log.child({ part: 'simulator' }), mqttUrl: this.broker?.url });
      }
      this.drivers = new DriverSet({
        config: () => this.config,
        profiles: () => this.profiles,
        devices: this.devices,
        clock: this.clock,
        log: this.log,
        dataDir: this.dataDir,
        ingestor: this.ingestor,
        metrics: this.metrics,
        staleness: this.staleness,
        ...(this.broker ? { broker: this.broker } : {}),
      });
      await this.drivers.start(cfg.connections);
      this.broker?.open();

      this.maintenance = new Maintenance({
        store: this.store,
        config: cfg,
        metrics: this.metrics,
        log: this.log.child({ part: 'store' }),
        staleness: this.staleness,
        ingestor: this.ingestor,
        live: this.live,
      });
      this.maintenance.start();

      // Sinks read the store's log after their own durable cursors; a commit wakes them.
      this.ingestor.onCommit(() => this.sinks?.notify());
      await this.replaceSinks(this.sinksFor(cfg));

      this.startKpi(cfg);
      this.onStop(() => this.kpi?.stop());

      const plugins = [webPlugin, kpiApiPlugin(() => this.kpi as KpiEngine), ...(this.opts.apiPlugins ?? [])];
      this.api = await buildApi(
        {
          store: this.store,
          metrics: this.metrics,
          clock: this.clock,
          log: this.log,
          live: this.live,
          tokens: cfg.api.tokens,
          health: () => this.health(),
          devices: () => this.deviceViews(),
        },
        plugins,
      );
      await this.api.listen({ host: cfg.api.host, port: cfg.api.port });
      this.state = 'running';
      this.log.info({ api: this.apiUrl, mqtt: this.broker?.url, devices: this.devices.all().length }, 'gateway running');
    } catch (err) {
      await this.stop().catch(() => undefined);
      throw err;
    }
  }

  /** The sinks of a config (at start, and again when a reload changes them); built, not started. */
  private sinksFor(cfg: Readonly<GatewayConfig>): Sinks {
    return createSinks(cfg, this.store, {
      clock: this.clock,
      log: this.log.child({ part: 'sinks' }),
      registry: this.metrics.registry,
      ...(this.broker ? { embeddedBroker: this.broker } : {}),
    });
  }

  /**
   * The KPI engine over a config, at start and again when a reload changes targets or KPI
   * settings (the previous engine stops; the new one finds the targets' state in the store).
   */
  private startKpi(cfg: Readonly<GatewayConfig>): void {
    this.kpi?.stop();
    const kpi = createKpiEngine({
      config: cfg,
      store: this.store,
      clock: this.clock,
      log: this.log.child({ part: 'kpi' }),
      // Alerts go where the northbound mqtt sinks go (their broker and topic prefix); without
      // one, to the embedded broker's fc/{site}/alerts.
      publish: (topic, payload) => {
        if (!this.sinks?.publishAlert(cfg.site.id, payload)) return this.broker?.publish(topic, payload, { qos: 1 });
      },
      onAlert: (alert) => this.live.publish({ kind: 'alert', data: { ...alert } }),
    });
    kpi.start();
    this.kpi = kpi;
  }

  /**
   * Apply a new config in place, per connection (`kill -HUP`). Only the connections whose
   * settings, devices, discovery rules or profiles changed are restarted; every other link keeps
   * its socket, its session and its poll period, and the store, the broker and the API are
   * untouched. While an embedded-broker connection is swapped the broker holds
   * publishes unacknowledged, so nothing is lost in between. New targets or KPI settings start a
   * new KPI engine (its state is in the store); new sinks replace the old ones, each resuming
   * from its durable cursor. A change to any other section cannot be applied in place: the
   * result says so and the caller restarts the gateway.
   * Validation (profiles, driver options) happens before anything is stopped.
   */
  async reconfigure(next: Readonly<GatewayConfig>): Promise<ReconfigureResult> {
    if (this.state !== 'running') return { applied: false, reason: `the gateway is ${this.state}` };
    const old = this.config;
    const profiles = resolveProfiles(next, this.log);
    const plan = planReload(old, next, this.profiles, profiles);
    if ('reason' in plan) return { applied: false, reason: plan.reason };
    const { changed, unchanged, kpi, sinks } = plan;
    // Built now, so a sink the new config cannot make stops the reload before anything changed.
    const freshSinks = sinks ? this.sinksFor(next) : undefined;
    const rest = async () => {
      if (freshSinks) await this.replaceSinks(freshSinks);
      if (kpi) this.startKpi(next);
    };
    if (!changed.length) {
      this.current = next;
      await rest();
      return { applied: true, restarted: [], unchanged, kpi, sinks };
    }

    // Build the new drivers first (this validates them) on a registry that already holds the
    // new devices; nothing running is touched until every one of them was accepted.
    const isChanged = (id: string) => changed.includes(id);
    const removed = this.devices.all().filter((d) => isChanged(d.config.connection) && (!d.discovered || !next.connections.some((c) => c.id === d.config.connection)));
    const added = next.devices.filter((d) => d.enabled && isChanged(d.connection)).map((d) => ({ config: d, profile: profiles.get(d.profile) as Profile, discovered: false }));
    this.devices.swap(removed, added);
    this.current = next;
    const previousProfiles = this.profiles;
    this.profiles = profiles;
    let fresh: Driver[];
    try {
      fresh = next.connections.filter((c) => isChanged(c.id)).map((c) => this.drivers.create(c));
    } catch (err) {
      this.devices.swap(added, removed);
      this.current = old;
      this.profiles = previousProfiles;
      throw err;
    }

    const embedded = (c: Readonly<GatewayConfig>) => c.connections.some((x) => isChanged(x.id) && x.protocol === 'mqtt' && x.url === 'embedded');
    const hold = this.broker && (embedded(old) || embedded(next)) ? this.broker : undefined;
    hold?.hold();
    try {
      await this.drivers.replace(changed, fresh);
    } finally {
      hold?.open();
    }
    // A device that is gone is not "quiet".
    for (const d of removed) if (!this.devices.get(d.config.id)) this.staleness.forget(d.config.id);
    await rest();
    if (!kpi) this.kpi?.setDevices(next);
    return { applied: true, restarted: changed, unchanged, kpi, sinks };
  }

  /** Start sinks, each from its durable cursor; running ones first send what they can within 2 s and stop. */
  private async replaceSinks(fresh: Sinks): Promise<void> {
    const old = this.sinks;
    this.sinks = undefined;
    await old?.stop({ flushMs: 2_000 }).catch((err: unknown) => this.log.warn({ err }, 'error while stopping the sinks'));
    this.sinks = fresh;
    await fresh.start();
  }

  /** How a device will be read (`fcgw explain`), without starting anything. */
  explainDevice(deviceId: string): string[] {
    return explainDevice(deviceId, this.explainEnv());
  }

  /** The same after one exchange with the device (`fcgw explain --probe`); starts only that device's driver. */
  probeDevice(deviceId: string, timeoutMs?: number): Promise<{ lines: string[]; ok: boolean }> {
    return probeDevice(deviceId, this.explainEnv(), timeoutMs);
  }

  private explainEnv() {
    return { config: this.config, profiles: this.profiles, clock: this.clock, log: this.log, dataDir: this.dataDir };
  }

  get apiUrl(): string | undefined {
    const addr = this.api?.server.address();
    if (!addr || typeof addr === 'string') return undefined;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    return `http://${host}:${addr.port}`;
  }

  driverHealth(): DriverHealth[] {
    return this.drivers?.health() ?? [];
  }

  driver(connectionId: string): Driver | undefined {
    return this.drivers?.get(connectionId);
  }

  health(): HealthReport {
    return healthReport({
      config: this.config,
      uptimeMs: this.clock.now() - this.startedAt,
      drivers: this.driverHealth(),
      sinks: this.sinks?.health() ?? [],
      store: this.store,
      maintenance: this.maintenance,
      ingestor: this.ingestor,
      broker: this.broker,
    });
  }

  deviceViews(): DeviceView[] {
    return this.activity.views(this.driverHealth());
  }

  /** Stop everything in reverse order; safe to call twice. Flushes and closes the store last. */
  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    this.state = 'stopping';
    const step = async (what: string, fn: () => Promise<unknown> | unknown) => {
      try {
        await fn();
      } catch (err) {
        this.log.warn({ err, what }, 'error while stopping');
      }
    };
    this.live.closeAll();
    if (this.api) await step('api', () => this.api?.close());
    // The simulators first, while the drivers still commit (and acknowledge) what they publish.
    if (this.simulators) await step('simulators', () => this.simulators?.stop());
    // From here on a device's publish is not acknowledged: with no driver to commit it, an
    // acknowledgement would lose it. Held, it is refused when the broker closes and sent again.
    this.broker?.hold();
    await this.drivers?.stop(step);
    for (const h of [...this.stopHooks].reverse()) await step('module', h);
    this.maintenance?.stop();
    if (this.ingestor) await step('ingest', () => this.ingestor.close());
    // After the last commit, before the broker (an mqtt sink may publish to it) and the store.
    if (this.sinks) await step('sinks', () => this.sinks?.stop({ flushMs: this.opts.sinkFlushMs ?? 5_000 }));
    if (this.broker) await step('broker', () => this.broker?.stop());
    // The checkpoint thread's connection closes first, so the store's close is the last one.
    if (this.store?.isOpen) await step('store', () => this.store.checkpointer?.stop().then(() => this.store.close()) ?? this.store.close());
    this.state = 'stopped';
    this.log.info('gateway stopped');
  }
}
