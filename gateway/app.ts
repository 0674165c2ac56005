import type { FastifyInstance } from 'fastify';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { DRIVERS, driverFor } from '../drivers/index.js';
import type { Driver, DriverHealth } from '../drivers/core/driver.js';
import { loadProfiles } from '../drivers/profiles/load.js';
import type { Profile } from '../drivers/profiles/schema.js';
import { readScenario, startSimulators, type RunningSimulators } from '../simulators/index.js';
import { buildApi, deviceActivity, deviceStatus, type ApiPlugin, type DeviceView, type HealthReport } from './api/server.js';
import { LiveHub } from './api/live.js';
import { webPlugin } from './api/static.js';
import { EmbeddedBroker } from './broker/embedded.js';
import { createKpiEngine, kpiApiPlugin, type KpiEngine } from './kpi/index.js';
import type { ConnectionConfig, DeviceConfig, GatewayConfig } from './config/schema.js';
import { AcceleratedClock, systemClock, type Clock } from './model/clock.js';
import { CounterState } from './pipeline/counters.js';
import { Ingestor } from './pipeline/ingest.js';
import { Dedupe } from './pipeline/normalise.js';
import { loadSiteSecret, Pseudonymiser } from './pipeline/pseudonymise.js';
import { StalenessTracker } from './pipeline/staleness.js';
import { DeviceRegistry } from './runtime/devices.js';
import { driverContext } from './runtime/driver-context.js';
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

export class GatewayError extends Error {
  constructor(
    readonly code: 'PROFILE_INVALID' | 'PROFILE_UNKNOWN' | 'DRIVER_MISSING' | 'START_FAILED',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What `reconfigure` did: applied per connection, or not (the caller restarts the gateway). */
export type ReconfigureResult = { applied: true; restarted: string[]; unchanged: string[]; kpi: boolean; sinks: boolean } | { applied: false; reason: string };

/** The sections a reload can apply per connection; a change anywhere else restarts the gateway. */
const PER_CONNECTION_SECTIONS = new Set<keyof GatewayConfig>(['connections', 'devices', 'discover']);
/** The sections a reload applies by starting a new KPI engine (its target state is in the store). */
const KPI_SECTIONS = new Set<keyof GatewayConfig>(['targets', 'kpi', 'emission_factor']);
/** Sinks are started anew on a reload that changes them; each resumes from its durable cursor. */
const SINK_SECTIONS = new Set<keyof GatewayConfig>(['sinks']);

/**
 * Load the profiles and check the ones a config needs. A broken profile stops the gateway only
 * when a device or a discovery rule needs it; otherwise it is a warning.
 */
function resolveProfiles(config: Readonly<GatewayConfig>, log: Logger): Map<string, Profile> {
  const { profiles, problems } = loadProfiles(DRIVERS);
  const needed = new Set([...config.devices.map((d) => d.profile), ...config.discover.map((r) => r.profile)]);
  const fatal: string[] = [];
  for (const p of problems) {
    const line = `${p.file}: ${p.path} (line ${p.line ?? '?'}): ${p.message}`;
    const id = p.file.replace(/^.*\//, '').replace(/\.ya?ml$/, '');
    if (needed.has(id)) fatal.push(line);
    else log.warn({ file: p.file }, `profile ignored: ${line}`);
  }
  if (fatal.length) throw new GatewayError('PROFILE_INVALID', fatal.join('\n'));
  for (const id of needed) {
    if (!profiles.has(id)) throw new GatewayError('PROFILE_UNKNOWN', `no profile "${id}" in drivers/profiles (known: ${[...profiles.keys()].join(', ') || 'none'})`);
  }
  for (const c of config.connections) {
    if (!driverFor(c.protocol)) throw new GatewayError('DRIVER_MISSING', `connection ${c.id}: no driver for protocol ${c.protocol}`);
  }
  return profiles;
}

/** Everything a connection's driver is built from; equal signatures mean the driver need not change. */
function connectionSignature(config: Readonly<GatewayConfig>, profiles: ReadonlyMap<string, Profile>, id: string): string {
  const devices = config.devices.filter((d) => d.connection === id && d.enabled).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const discover = config.discover.filter((r) => r.connection === id);
  const used = [...new Set([...devices.map((d) => d.profile), ...discover.map((r) => r.profile)])].sort();
  return JSON.stringify({
    connection: config.connections.find((c) => c.id === id) ?? null,
    devices,
    discover,
    profiles: used.map((p) => profiles.get(p) ?? null),
  });
}

function replaceMap<K, V>(target: Map<K, V>, source: ReadonlyMap<K, V>): void {
  target.clear();
  for (const [k, v] of source) target.set(k, v);
}

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
  readonly profiles: Map<string, Profile>;
  readonly startedAt: number;
  store!: Store;
  ingestor!: Ingestor;
  devices!: DeviceRegistry;
  broker: EmbeddedBroker | undefined;
  api: FastifyInstance | undefined;
  simulators: RunningSimulators | undefined;
  private readonly drivers: Driver[] = [];
  private kpi: KpiEngine | undefined;
  /** When each device last sent an event (devices such as barrier gates send nothing else). */
  private readonly lastEventAt = new Map<string, number>();
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
      this.restoreKnownDevices();
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
        if (events.length) {
          const now = this.clock.now();
          for (const e of events) this.lastEventAt.set(e.device, now);
        }
      });

      if (cfg.broker.embedded) {
        this.broker = new EmbeddedBroker(cfg.broker.embedded, this.log.child({ part: 'broker' }));
        this.broker.hold();
        await this.broker.start();
      }
      // Simulators first (the drivers' Modbus and OPC UA peers are then listening), drivers next;
      // the broker holds what devices publish meanwhile and acknowledges it once drivers run.
      if (cfg.simulators.enabled) await this.startSimulators();
      await this.startDrivers();
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

      // wiring: sinks (gateway/sinks) and KPIs (gateway/kpi) attach here.
      // Sinks read the store's log after their own durable cursors; a commit wakes them.
      this.ingestor.onCommit(() => this.sinks?.notify());
      await this.startSinks(this.sinksFor(cfg));

      const kpi = this.startKpi(cfg);
      this.onStop(() => this.kpi?.stop());

      const plugins = [webPlugin, kpiApiPlugin(() => this.kpi ?? kpi), ...(this.opts.apiPlugins ?? [])];
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

  /**
   * What the store knows from before a restart. Devices found by discovery come back while their
   * rule still exists, so a sensor that went quiet stays listed instead of vanishing; and every
   * device's last report counts for staleness, so one that stayed silent across the restart goes
   * stale at the first sweep instead of showing its old values as good.
   */
  private restoreKnownDevices(): void {
    const cfg = this.config;
    for (const rec of this.store.listDevices()) {
      if (!rec.discovered || this.devices.get(rec.id)) continue;
      const rule = cfg.discover.find((r) => r.connection === rec.connection && r.profile === rec.profile && r.class === rec.class);
      const profile = this.profiles.get(rec.profile);
      if (!rule || !profile) continue;
      const device: DeviceConfig = { id: rec.id, class: rec.class, connection: rec.connection, profile: rec.profile, tags: rec.tags, options: {}, enabled: true };
      if (rule.stale_after !== undefined) device.stale_after = rule.stale_after;
      this.devices.add(device, profile, true);
    }
    // Once per start: each device's newest event (the index on events begins with the device).
    for (const r of this.store.db.prepare('SELECT device, max(ts) AS ts FROM events GROUP BY device').all() as { device: string; ts: number }[]) {
      this.lastEventAt.set(r.device, r.ts);
    }
    const now = this.clock.now();
    const activity = deviceActivity(this.store);
    for (const d of this.devices.all()) {
      const at = this.lastActivity(d.config.id, activity.get(d.config.id)?.lastSeen);
      if (at !== undefined) this.staleness.seen(d.config.id, Math.min(at, now));
    }
  }

  /** The newer of a device's last sample (as the store has it) and its last event. */
  private lastActivity(id: string, lastSample: number | undefined): number | undefined {
    const ev = this.lastEventAt.get(id);
    if (ev === undefined) return lastSample;
    return lastSample === undefined ? ev : Math.max(ev, lastSample);
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

  /** Each sink resumes from its durable cursor. */
  private async startSinks(sinks: Sinks): Promise<void> {
    this.sinks = sinks;
    await sinks.start();
  }

  /** The KPI engine over a config (at start, and again when a reload changes targets or KPI settings). */
  private startKpi(cfg: Readonly<GatewayConfig>): KpiEngine {
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
    return kpi;
  }

  private async startSimulators(): Promise<void> {
    const cfg = this.config;
    const file = resolve(cfg.simulators.scenario);
    this.simulators = await startSimulators(readScenario(file), {
      clock: this.clock,
      speed: cfg.simulators.speed,
      seed: cfg.simulators.seed,
      log: this.log.child({ part: 'simulator' }),
      site: cfg.site.id,
      latitude: cfg.site.latitude,
      longitude: cfg.site.longitude,
      timezone: cfg.site.timezone,
      ...(this.broker ? { mqttUrl: this.broker.url } : {}),
    });
  }

  private async startDrivers(): Promise<void> {
    for (const conn of this.config.connections) {
      const driver = this.createDriver(conn);
      this.drivers.push(driver);
      await driver.start();
    }
  }

  /** A connection's driver over the registry's devices on it (validates; no I/O). */
  private createDriver(conn: ConnectionConfig): Driver {
    const factory = driverFor(conn.protocol);
    if (!factory) throw new GatewayError('DRIVER_MISSING', `connection ${conn.id}: no driver for protocol ${conn.protocol}`);
    // Configured devices; discovered ones are found again by the driver's discovery rules.
    const devices = this.devices
      .all()
      .filter((d) => d.config.connection === conn.id && !d.discovered)
      .map((d) => ({ config: d.config, profile: d.profile }));
    const discover = this.config.discover.filter((r) => r.connection === conn.id);
    return factory.create({
      connection: conn,
      devices,
      discover,
      config: this.config,
      profiles: this.profiles,
      ctx: driverContext({
        connection: conn.id,
        site: this.config.site.id,
        clock: this.clock,
        log: this.log.child({ connection: conn.id }),
        dataDir: this.dataDir,
        ingestor: this.ingestor,
        metrics: this.metrics,
        devices: this.devices,
        staleness: this.staleness,
        discover,
        ...(this.broker ? { broker: this.broker } : {}),
      }),
    });
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
    const differs = (Object.keys({ ...old, ...next }) as (keyof GatewayConfig)[]).filter((k) => JSON.stringify(old[k]) !== JSON.stringify(next[k]));
    const sections = differs.filter((k) => !PER_CONNECTION_SECTIONS.has(k) && !KPI_SECTIONS.has(k) && !SINK_SECTIONS.has(k));
    if (sections.length) return { applied: false, reason: `changed: ${sections.join(', ')}` };
    const kpi = differs.some((k) => KPI_SECTIONS.has(k));

    const profiles = resolveProfiles(next, this.log);
    const ids = [...new Set([...next.connections.map((c) => c.id), ...old.connections.map((c) => c.id)])];
    const changed = ids.filter((id) => connectionSignature(old, this.profiles, id) !== connectionSignature(next, profiles, id));
    const unchanged = ids.filter((id) => !changed.includes(id) && next.connections.some((c) => c.id === id));
    // An mqtt sink takes its broker settings from a connection: a change there restarts the sinks too.
    const connectionOf = (c: Readonly<GatewayConfig>, id: string) => JSON.stringify(c.connections.find((x) => x.id === id) ?? null);
    const borrowed = changed.some((id) => next.sinks.some((s) => s.type === 'mqtt' && s.connection === id) && connectionOf(old, id) !== connectionOf(next, id));
    const sinks = differs.includes('sinks') || borrowed;
    // Built now, so a sink the new config cannot make stops the reload before anything changed.
    const freshSinks = sinks ? this.sinksFor(next) : undefined;
    const rest = async () => {
      if (freshSinks) await this.replaceSinks(freshSinks);
      if (kpi) this.restartKpi(next);
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
    const added = next.devices.filter((d) => d.enabled && isChanged(d.connection));
    const swapRegistry = (from: typeof removed, to: { config: DeviceConfig; profile: Profile; discovered: boolean }[]) => {
      for (const d of from) this.devices.remove(d.config.id);
      for (const d of to) this.devices.add(d.config, d.profile, d.discovered);
    };
    const addedRegistered = added.map((d) => ({ config: d, profile: profiles.get(d.profile) as Profile, discovered: false }));
    swapRegistry(removed, addedRegistered);
    this.current = next;
    const previousProfiles = new Map(this.profiles);
    replaceMap(this.profiles, profiles);
    let fresh: Driver[];
    try {
      fresh = next.connections.filter((c) => isChanged(c.id)).map((c) => this.createDriver(c));
    } catch (err) {
      swapRegistry(addedRegistered, removed);
      this.current = old;
      replaceMap(this.profiles, previousProfiles);
      throw err;
    }

    const embedded = (c: Readonly<GatewayConfig>) => c.connections.some((x) => isChanged(x.id) && x.protocol === 'mqtt' && x.url === 'embedded');
    const hold = this.broker && (embedded(old) || embedded(next)) ? this.broker : undefined;
    hold?.hold();
    try {
      for (const d of this.drivers.filter((x) => isChanged(x.connectionId)).reverse()) {
        this.drivers.splice(this.drivers.indexOf(d), 1);
        await d.stop().catch((err: unknown) => this.log.warn({ err, connection: d.connectionId }, 'error while stopping a connection'));
      }
      for (const d of fresh) {
        this.drivers.push(d);
        await d.start();
      }
    } finally {
      hold?.open();
    }
    // A device that is gone is not "quiet".
    for (const d of removed) if (!this.devices.get(d.config.id)) this.staleness.forget(d.config.id);
    await rest();
    if (!kpi) this.kpi?.setDevices(next);
    return { applied: true, restarted: changed, unchanged, kpi, sinks };
  }

  /** New sinks: the old ones send what they can within 2 s and stop; the new ones resume from their cursors. */
  private async replaceSinks(fresh: Sinks): Promise<void> {
    const old = this.sinks;
    this.sinks = undefined;
    await old?.stop({ flushMs: 2_000 }).catch((err: unknown) => this.log.warn({ err }, 'error while stopping the sinks'));
    await this.startSinks(fresh);
  }

  /** New targets or KPI settings: a new engine, which finds the targets' state and alerts in the store. */
  private restartKpi(next: Readonly<GatewayConfig>): void {
    this.kpi?.stop();
    this.startKpi(next);
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
    return this.drivers.map((d) => d.health());
  }

  driver(connectionId: string): Driver | undefined {
    return this.drivers.find((d) => d.connectionId === connectionId);
  }

  health(): HealthReport {
    const drivers = this.driverHealth();
    const sinks = this.sinks?.health() ?? [];
    const badLinks = drivers.filter((d) => d.state !== 'connected').length;
    const badSinks = sinks.filter((s) => s.state !== 'ok').length;
    const status: HealthReport['status'] = !this.store?.isOpen ? 'down' : badLinks || badSinks || this.maintenance?.degraded ? 'degraded' : 'ok';
    return {
      status,
      site: this.config.site.id,
      site_name: this.config.site.name ?? this.config.site.id,
      timezone: this.config.site.timezone,
      uptime_s: Math.round((this.clock.now() - this.startedAt) / 1000),
      drivers,
      sinks,
      store: {
        path: this.config.store.path,
        bytes: this.maintenance?.lastSize ?? 0,
        wal_bytes: this.maintenance?.lastWal ?? 0,
        checkpoint_thread: this.store?.checkpointer?.running ?? false,
        max_disk: this.config.store.max_disk,
        over_cap: this.maintenance?.overCap ?? false,
        ...(this.maintenance?.lastLoss
          ? { last_loss: { at: new Date(this.maintenance.lastLoss.at).toISOString(), samples: this.maintenance.lastLoss.samples, events: this.maintenance.lastLoss.events } }
          : {}),
        ingest_queue: this.ingestor?.depth() ?? 0,
        last_seq: this.store?.isOpen ? this.store.maxSeq() : null,
      },
      ...(this.broker ? { broker: { url: this.broker.url, clients: this.broker.connectedClients() } } : {}),
    };
  }

  deviceViews(): DeviceView[] {
    const activity = deviceActivity(this.store);
    const driverStates = new Map<string, { state: string; error?: string }>();
    for (const h of this.driverHealth()) for (const d of h.devices) driverStates.set(d.id, d);
    return this.devices.all().map(({ config: d, profile }) => {
      const a = activity.get(d.id);
      const ds = driverStates.get(d.id);
      const seen = this.lastActivity(d.id, a?.lastSeen);
      const view: DeviceView = {
        id: d.id,
        class: d.class,
        connection: d.connection,
        profile: profile.id,
        tags: d.tags,
        status: deviceStatus(seen, ds?.state, this.staleness.isStale(d.id)),
        lastSeen: seen !== undefined ? new Date(seen).toISOString() : null,
        quality: a?.quality ?? null,
      };
      if (d.name) view.name = d.name;
      if (ds?.error) view.error = ds.error;
      return view;
    });
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
    for (const d of [...this.drivers].reverse()) await step(`driver ${d.connectionId}`, () => d.stop());
    for (const h of [...this.stopHooks].reverse()) await step('module', h);
    this.maintenance?.stop();
    if (this.ingestor) await step('ingest', () => this.ingestor.close());
    // After the last commit, before the broker (an mqtt sink may publish to it) and the store.
    if (this.sinks) await step('sinks', () => this.sinks?.stop({ flushMs: this.opts.sinkFlushMs ?? 5_000 }));
    if (this.broker) await step('broker', () => this.broker?.stop());
    if (this.store?.isOpen) await step('store', () => this.store.close());
    this.state = 'stopped';
    this.log.info('gateway stopped');
  }
}
