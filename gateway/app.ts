import type { FastifyInstance } from 'fastify';
import { dirname, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Driver, DriverHealth } from '../drivers/core/driver.js';
import type { Profile } from '../drivers/profiles/schema.js';
import type { RunningSimulators } from '../simulators/index.js';
import { buildApi, listenUrl, type ApiPlugin, type DeviceView, type HealthReport } from './api/server.js';
import { LiveHub } from './api/live.js';
import { webPlugin } from './api/static.js';
import type { EmbeddedBroker } from './broker/embedded.js';
import { kpiApiPlugin } from './api/kpi-routes.js';
import { createKpiEngine, type KpiEngine } from './kpi/index.js';
import { KpiNorthbound } from './kpi/northbound.js';
import { KpiOutbox } from './kpi/outbox.js';
import type { GatewayConfig } from './config/schema.js';
import { simulationClock, type Clock } from './model/clock.js';
import { StalenessTracker, staleAfter } from './pipeline/staleness.js';
import { DeviceActivity } from './runtime/activity.js';
import { DeviceRegistry } from './runtime/devices.js';
import { GatewayError } from './runtime/errors.js';
import type { ReconfigureResult } from './runtime/reload-plan.js';
import { reconfigure, type Reloadable } from './runtime/reconfigure.js';
import { SiteFacts, siteOf, siteOrThrow, type ResolvedSite } from './site/index.js';
import { DriverSet } from './runtime/driver-set.js';
import { healthReport } from './runtime/health.js';
import { explainDevice, probeDevice } from './runtime/explain.js';
import { GatewayMetrics } from './runtime/metrics.js';
import { buildIngestor } from './runtime/pipeline.js';
import type { Ingestor } from './pipeline/ingest.js';
import { Maintenance } from './runtime/maintenance.js';
import { createSinks, type Sinks } from './sinks/index.js';
import { Store } from './store/store.js';
import { controlApiPlugins, startControl, type ControlService, type SurplusControl } from './control/index.js';

export interface GatewayOptions {
  /** A config parsed by the config schema; it is resolved here (gateway/site) unless `site` is given. */
  config: Readonly<GatewayConfig>;
  /** The resolved site of `config` (fcgw start resolved it already, with YAML lines). */
  site?: ResolvedSite;
  log: Logger;
  /** Default: the system clock, or the simulators' accelerated clock when they run faster than real time. */
  clock?: Clock;
  env?: NodeJS.ProcessEnv;
  /** Extra API route modules. */
  apiPlugins?: ApiPlugin[];
  /** What POST /api/reload (an admin token) triggers: `fcgw start` passes its SIGHUP reload. */
  reload?: () => unknown;
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
  /** The resolved site in force: device facts reach the pipeline and the KPIs from here only. */
  private site: ResolvedSite;
  private facts: SiteFacts;
  readonly log: Logger;
  readonly clock: Clock;
  readonly metrics: GatewayMetrics;
  readonly live = new LiveHub();
  readonly startedAt: number;
  store!: Store;
  ingestor!: Ingestor;
  devices!: DeviceRegistry;
  broker: EmbeddedBroker | undefined;
  api: FastifyInstance | undefined;
  simulators: RunningSimulators | undefined;
  private drivers!: DriverSet;
  private kpi: KpiEngine | undefined;
  /** Commands to devices (gateway/control) and the surplus rule engine over them. */
  control: ControlService | undefined;
  surplus: SurplusControl | undefined;
  private kpiOutbox: KpiOutbox | undefined;
  private northbound: KpiNorthbound | undefined;
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
    // The one validation; a config with a problem never builds a gateway.
    this.site = opts.site ?? siteOrThrow(siteOf(opts.config));
    this.facts = new SiteFacts(this.site);
    this.current = this.site.config;
    this.log = opts.log;
    const sim = this.current.simulators;
    this.clock = opts.clock ?? simulationClock(sim);
    this.startedAt = this.clock.now();
    this.metrics = new GatewayMetrics({ defaults: opts.processMetrics ?? true });
    this.staleness = new StalenessTracker((id) => staleAfter(this.devices.get(id)?.config, this.config.pipeline.stale_after, this.clock.rate));
  }

  /** Every profile of the site in force, by id (a reload's site brings its own). */
  get profiles(): ReadonlyMap<string, Profile> {
    return this.site.profiles;
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
      this.devices = new DeviceRegistry(this.store);
      for (const d of cfg.devices) if (d.enabled) this.devices.add(d, this.profiles.get(d.profile) as Profile, false);
      this.activity = new DeviceActivity(this.store, this.devices, this.staleness);
      this.activity.restore(cfg, this.profiles, this.clock.now());
      this.ingestor = buildIngestor({
        config: cfg,
        store: this.store,
        metrics: this.metrics,
        log: this.log,
        clock: this.clock,
        dataDir: this.dataDir,
        env: this.opts.env,
        devices: this.devices,
        facts: () => this.facts,
      });
      this.ingestor.onCommit((samples, events) => {
        this.live.publishCommitted(samples, events);
        if (events.length) this.activity.noteEvents(events, this.clock.now());
      });

      // The broker and the simulators load only when the config has them (a small box's memory).
      if (cfg.broker.embedded) {
        const { EmbeddedBroker } = await import('./broker/embedded.js');
        this.broker = new EmbeddedBroker(cfg.broker.embedded, this.log.child({ part: 'broker' }), { metrics: this.metrics });
        this.broker.hold();
        await this.broker.start();
      }
      // Simulators first (the drivers' Modbus and OPC UA peers are then listening), drivers next;
      // the broker holds what devices publish meanwhile and acknowledges it once drivers run.
      if (cfg.simulators.enabled) {
        const { startConfiguredSimulators } = await import('../simulators/index.js');
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
      this.kpiOutbox = new KpiOutbox(this.store);
      this.sinks = this.sinksFor(cfg);
      await this.sinks.start();

      this.kpi = this.kpiFor(cfg);
      this.kpi.start();
      this.onStop(() => this.kpi?.stop());
      this.northbound = new KpiNorthbound({ config: () => this.config, engine: () => this.kpi, outbox: this.kpiOutbox, clock: this.clock, startedAt: this.startedAt, log: this.log.child({ part: 'kpi-northbound' }) });
      this.northbound.start();
      this.onStop(() => this.northbound?.stop());

      const control = startControl({
        config: () => this.config,
        device: (id) => this.devices.get(id),
        ...{ driver: (c: string) => this.drivers?.get(c), driverHealth: () => this.driverHealth() },
        ...{ store: this.store, live: this.live, clock: this.clock, log: this.log },
        notifySinks: () => this.sinks?.notify(),
      });
      ({ control: this.control, surplus: this.surplus } = control);
      this.onStop(control.stop);

      const plugins = [webPlugin, kpiApiPlugin(() => this.kpi as KpiEngine), ...controlApiPlugins(() => this.control), ...(this.opts.apiPlugins ?? [])];
      this.api = await buildApi(
        {
          store: this.store,
          metrics: this.metrics,
          clock: this.clock,
          log: this.log,
          live: this.live,
          tokens: cfg.api.tokens,
          api: cfg.api,
          reload: this.opts.reload,
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
      ...(this.kpiOutbox ? { kpiOutbox: this.kpiOutbox } : {}),
    });
  }

  /** The KPI engine of a config; built, not started. */
  private kpiFor(cfg: Readonly<GatewayConfig>): KpiEngine {
    return createKpiEngine({
      config: cfg,
      store: this.store,
      clock: this.clock,
      log: this.log.child({ part: 'kpi' }),
      // Alerts go where the northbound mqtt sinks go (their broker and topic prefix); without
      // one, to the embedded broker's fc/{site}/alerts.
      publish: (topic, payload) => {
        if (!this.sinks?.publishAlert(cfg.site.id, payload)) return this.broker?.publish(topic, payload, { qos: 1 });
      },
      onAlert: (alert, at) => (this.live.publish({ kind: 'alert', data: { ...alert } }), this.northbound?.alert(alert, at)),
      wrapOf: (device, metric) => this.facts.wrapOf(device, metric),
    });
  }

  /**
   * Apply a new config in place, per connection (`kill -HUP`), as a transaction: everything new
   * is built and validated first, then swapped; a step that fails puts every part back as it
   * was (runtime/reconfigure.ts). A change that cannot be applied in place says so and the
   * caller restarts the gateway.
   */
  async reconfigure(nextConfig: Readonly<GatewayConfig> | ResolvedSite): Promise<ReconfigureResult> {
    if (this.state !== 'running') return { applied: false, reason: `the gateway is ${this.state}` };
    const site = 'profiles' in nextConfig && nextConfig.profiles instanceof Map ? (nextConfig as ResolvedSite) : siteOrThrow(siteOf(nextConfig as Readonly<GatewayConfig>));
    return reconfigure(this.reloadable(), site);
  }

  /** The parts a reload swaps, as the reload sees them. */
  private reloadable(): Reloadable {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the accessors below swap this gateway's parts
    const gw = this;
    return {
      log: this.log,
      devices: this.devices,
      drivers: this.drivers,
      staleness: this.staleness,
      broker: this.broker,
      get config() {
        return gw.current;
      },
      set config(c) {
        gw.current = c;
      },
      get site() {
        return gw.site;
      },
      useSite: (site) => this.useSite(site),
      get sinks() {
        return gw.sinks;
      },
      set sinks(s) {
        gw.sinks = s;
      },
      get kpi() {
        return gw.kpi;
      },
      set kpi(k) {
        gw.kpi = k;
      },
      cursors: { list: () => this.store.listCursors().map((c) => c.consumer), drop: (c) => this.store.deleteCursor(c) },
      buildSinks: (cfg) => this.sinksFor(cfg),
      buildKpi: (cfg) => this.kpiFor(cfg),
    };
  }

  /** The site in force, and the device facts the pipeline and the KPIs read from it. */
  private useSite(site: ResolvedSite): void {
    this.site = site;
    this.facts = new SiteFacts(site);
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
    return listenUrl(this.api);
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
