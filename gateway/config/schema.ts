import { z } from 'zod';
import { DEVICE_CLASSES, WATER_TYPES } from '../model/catalog.js';
import { KPI_NAMES, KPI_WINDOWS } from '../kpi/names.js';
import { controlSchema } from '../control/schema.js';
import { didYouMean } from '../model/suggest.js';
import { duration, isLoopback, size, slug, strict } from '../model/zod-helpers.js';
import { timeZoneProblem } from '../model/zone.js';
import { brokerSchema } from './broker.js';
import { transitProblems, transitSchema } from './transit.js';
import { connectionEntry as connection, deviceSchema as device, discoverSchema as discover, type ConnectionConfig } from '../model/site-config.js';

/** The whole config file of spec/interfaces.md. Types come from here (z.infer), never written twice. */

const site = strict({
  id: slug,
  name: z.string().optional(),
  /** The district (街道/区) the community belongs to: sent northbound with the site's identity, so a district view can group its communities. */
  district: z.string().min(1).optional(),
  timezone: z.string().default('Asia/Shanghai'),
  residents: z.number().int().positive().optional(),
  households: z.number().int().positive().optional(),
  latitude: z.number().min(-90).max(90).default(30.27),
  longitude: z.number().min(-180).max(180).default(120.15),
});

const store = strict({
  path: z.string().default('./data/gateway.db'),
  retention: strict({ raw: duration('30d'), rollups: duration('400d'), events: duration('400d') }).default({
    raw: 30 * 86_400_000,
    rollups: 400 * 86_400_000,
    events: 400 * 86_400_000,
  }),
  max_disk: size('5GB'),
  /** What happens at max_disk: drop the oldest samples (even unsent ones, loudly) or refuse new ones. */
  overflow: z.enum(['drop_oldest', 'reject_new']).default('drop_oldest'),
  /**
   * Store transactions: at most max_rows readings each. max_delay 0 commits what arrives within
   * one turn of the event loop. busy_delay (20 ms; 0 turns it off): while readings come at 2,000
   * a second or more, a reading waits up to that long for others to share its transaction, less
   * once nothing has come for 2 ms while producers wait for their commit (the ingestor learns
   * whether they do: pipeline/ingest.ts QUIET_MS). Fewer, larger commits, less CPU per MQTT
   * message; pollers do not wait for their commits to poll again. max_delay > 0 always waits.
   */
  batch: strict({ max_rows: z.number().int().min(1).max(100_000).default(5000), max_delay: duration('0ms'), busy_delay: duration('20ms') }).default({
    max_rows: 5000,
    max_delay: 0,
    busy_delay: 20,
  }),
});

const apiToken = z.string().min(16, 'tokens must be at least 16 characters');

/** Bounds on what one client can hold of the API: sockets, time, live streams, buffered bytes. */
const apiLimits = strict({
  /** A request's headers must arrive within this (slow-header sockets are closed with 408). */
  header_timeout: duration('10s'),
  /** A whole request (headers and body) must arrive within this. */
  request_timeout: duration('30s'),
  /** A socket with no traffic either way for this long is closed (live streams send a heartbeat). */
  idle_timeout: duration('60s'),
  /** An idle keep-alive connection is closed after this. */
  keep_alive_timeout: duration('5s'),
  /** /api/live streams open at once, in all (503 beyond) and per client address (429 beyond). */
  live_streams: z.number().int().min(1).max(100_000).default(64),
  live_streams_per_client: z.number().int().min(1).max(100_000).default(8),
  /**
   * Bytes waiting for one live reader; a reader that falls this far behind is dropped (and
   * counted). It must hold the largest burst a healthy reader gets: one store commit (up to
   * store.batch.max_rows samples, about 150 bytes each on the stream).
   */
  live_buffer: size('1MB'),
});

export const apiSchema = strict({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Bearer tokens of scope `read` (data, live, metrics); a token is required off loopback. */
  tokens: z.array(apiToken).default([]),
  /**
   * Bearer tokens of scope `admin`: everything `read` allows, plus reload and commands to devices.
   * A token may carry a name (`{ name: ops-desk, token: … }`): the audit log records commands by
   * it (a bare token is `admin-1`, `admin-2`… by its place in the list).
   */
  admin_tokens: z.array(z.union([apiToken, strict({ name: z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'a token name is 1–40 letters, digits, dot, dash or underscore'), token: apiToken })])).default([]),
  /**
   * Host names (or addresses) requests may name in their Host header besides the loopback ones
   * and `host`. Checked whenever no token is configured (stops DNS rebinding from a browser),
   * and always once this list is not empty.
   */
  allowed_hosts: z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+|[0-9a-fA-F.]*:[0-9a-fA-F.]*:[0-9a-fA-F:.]*)$/, 'must be a host name or address without a port')).default([]),
  limits: apiLimits.default(apiLimits.parse({})),
});

const logging = strict({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Human-readable lines; default: only when stdout is a terminal. */
  pretty: z.boolean().optional(),
});

const pipeline = strict({
  /** A series whose device has not reported for this long is marked stale (once, never re-stamped). */
  stale_after: duration('5m'),
  /** Readings waiting for the store; producers wait (backpressure) when it is full. */
  queue_max: z.number().int().min(100).max(10_000_000).default(100_000),
});

const privacy = strict({
  /** Environment variable that holds the site secret for pseudonyms. */
  secret_env: z.string().default('FCGW_SITE_SECRET'),
  /** Where a generated secret is kept when the variable is absent (default: beside the store). */
  secret_file: z.string().optional(),
});

/** Directories of device profiles of one's own, besides drivers/profiles (relative to the config file). */
const profiles = strict({ dirs: z.array(z.string()).default([]) });

/** TLS of an outbound link (mqtts://, https://): the peer's certificate is verified by default. */
const tls = strict({
  /** PEM file of the CA that signs the server's certificate (else the system's CAs). */
  ca: z.string().optional(),
  /** PEM files of a client certificate and key, for servers that ask for one. */
  cert: z.string().optional(),
  key: z.string().optional(),
  /** `false` turns certificate verification off (logged as a warning at every start): tests only. */
  reject_unauthorized: z.boolean().default(true),
});

const sinkCommon = {
  id: slug.optional(),
  batch_size: z.number().int().min(1).max(100_000).default(5000),
  flush_interval: duration('1s'),
  /** Where a newly added sink starts: "now" (default), "earliest", or an ISO time for backfill. */
  start_from: z.string().default('now'),
  timeout: duration('10s'),
  backoff_max: duration('60s'),
  enabled: z.boolean().default(true),
};

const sink = z.discriminatedUnion('type', [
  strict({
    ...sinkCommon,
    type: z.literal('influxdb2'),
    url: z.string().url(),
    token: z.string(),
    org: z.string(),
    bucket: z.string(),
    gzip: z.boolean().default(true),
    /** zlib level of a compressed body: 1 is fastest (a quarter of the CPU of 6, about 15 % more bytes), 9 smallest. */
    gzip_level: z.number().int().min(1).max(9).default(6),
    tls: tls.optional(),
  }),
  strict({
    ...sinkCommon,
    type: z.literal('influxdb1'),
    url: z.string().url(),
    database: z.string(),
    retention_policy: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    tls: tls.optional(),
  }),
  strict({
    ...sinkCommon,
    type: z.literal('mqtt'),
    connection: slug,
    topic_prefix: z.string().default('fc/{site}'),
    qos: z.union([z.literal(0), z.literal(1)]).default(1),
    retain: z.boolean().default(false),
  }),
]);

const target = strict({
  kpi: z.string(),
  window: z.enum(KPI_WINDOWS),
  min: z.number().optional(),
  max: z.number().optional(),
  scope: z
    .union([
      strict({ site: z.literal(true) }),
      strict({ device: slug }),
      strict({ tag: z.string(), value: z.string() }),
    ])
    .default({ site: true }),
  min_coverage: z.number().min(0).max(1).default(0.9),
  /** Share of a running window that must have passed before it is judged (default: 0 for 15m and hour, 0.25 longer). */
  min_elapsed: z.number().min(0).max(1).optional(),
  /** Distance back inside the bound before a missed target clears (in the KPI's unit). */
  hysteresis: z.number().min(0).default(0),
});

const kpi = strict({
  /** Contracted grid demand (W) for peak_demand. */
  contract_demand: z.number().positive().optional(),
  /** Longest gap (power integration, coverage) bridged between two points. */
  max_gap: duration('15m'),
  /** night_flow_leak: flow (m³/h) that counts as a leak between 02:00 and 04:00, and on how many nights. */
  night_flow_threshold: z.number().min(0).default(0.01),
  night_flow_nights: z.number().int().min(1).default(3),
  evaluate_every: duration('1m'),
  /** KPI values, verdicts, alerts and the site's identity through every sink (gateway/kpi/northbound.ts). */
  northbound: strict({
    enabled: z.boolean().default(true),
    /** Windows whose values leave the gateway (the rolling 15m stays local). */
    windows: z.array(z.enum(['hour', 'day', 'week', 'month', 'year'])).default(['hour', 'day', 'month']),
    /** How often the running windows' values are sent (clock time). */
    running_every: duration('5m'),
    /** How long after a window closes its final values are sent (data of its last minutes arriving). */
    closed_after: duration('2m'),
    /** The site's identity is sent at start, on change, and again at this period (a district query's lookback finds it). */
    identity_every: duration('1d'),
  }).default({ enabled: true, windows: ['hour', 'day', 'month'], running_every: 300_000, closed_after: 120_000, identity_every: 86_400_000 }),
});

const emissionFactor = strict({
  value: z.number().positive(),
  unit: z.literal('kgCO2/kWh').default('kgCO2/kWh'),
  scope: z.string().default('East China grid 2023'),
});

const simulators = strict({
  enabled: z.boolean().default(false),
  speed: z.number().positive().max(100_000).default(1),
  seed: z.number().int().default(42),
  scenario: z.string().default('simulators/scenarios/community.yaml'),
  /** Simulated start time (ISO); default: now. */
  start: z.string().optional(),
});

/** A list section; one holding only comments (null in YAML) is an empty list. */
function list<T extends z.ZodType>(item: T) {
  return z.preprocess((v) => (v === null ? undefined : v), z.array(item).default([]));
}

export const configSchema = strict({
  version: z.literal(1, { error: 'must be 1' }),
  site,
  store: store.default(store.parse({})),
  broker: brokerSchema.default({}),
  api: apiSchema.default(apiSchema.parse({})),
  logging: logging.default(logging.parse({})),
  pipeline: pipeline.default(pipeline.parse({})),
  privacy: privacy.default(privacy.parse({})),
  profiles: profiles.default({ dirs: [] }),
  connections: list(connection),
  devices: list(device),
  discover: list(discover),
  sinks: list(sink),
  emission_factor: emissionFactor.default({ value: 0.55, unit: 'kgCO2/kWh', scope: 'East China grid 2023' }),
  targets: list(target),
  kpi: kpi.default(kpi.parse({})),
  simulators: simulators.default(simulators.parse({})),
  /** The 10-minute transit circle and shared parking (gateway/config/transit.ts). */
  transit: transitSchema.default(transitSchema.parse({})),
  control: controlSchema.default(controlSchema.parse({})),
});

export type GatewayConfig = z.infer<typeof configSchema>;

/** Admin tokens with their names (a bare token is named by its place: admin-1, admin-2…). */
export function namedTokens(list: readonly (string | { name: string; token: string })[]): { name: string; token: string }[] {
  return list.map((t, i) => (typeof t === 'string' ? { name: `admin-${i + 1}`, token: t } : t));
}
export type ApiConfig = GatewayConfig['api'];
export type { ConnectionConfig, DeviceConfig, DiscoverConfig } from '../model/site-config.js';
export type SinkConfig = GatewayConfig['sinks'][number];
export type TargetConfig = GatewayConfig['targets'][number];

type Raw = z.output<typeof configSchema>;

/**
 * The cross-section rules of a config that passed the schema (paths from the config root).
 * gateway/site's `resolveSite` runs them together with the drivers' and sinks' own checks, so
 * one pass reports every problem.
 */
export function crossSectionProblems(c: Readonly<GatewayConfig>): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const ctx = { addIssue: (i: { path?: PropertyKey[]; message?: string }) => out.push({ path: (i.path ?? []) as (string | number)[], message: i.message ?? '' }) };
  crossCheck(c as Raw, ctx as unknown as z.RefinementCtx);
  return out;
}

/**
 * Rules that span sections and need no protocol: references resolve, ids are unique, auth off
 * loopback. What a protocol needs is checked by its driver, in gateway/site.
 */
function crossCheck(c: Raw, ctx: z.RefinementCtx): void {
  const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  const connIds = new Map<string, ConnectionConfig>();
  c.connections.forEach((conn, i) => {
    if (connIds.has(conn.id)) problem(['connections', i, 'id'], `duplicate connection id "${conn.id}"`);
    connIds.set(conn.id, conn);
  });

  const deviceIds = new Set<string>();
  c.devices.forEach((d, i) => {
    if (deviceIds.has(d.id)) problem(['devices', i, 'id'], `duplicate device id "${d.id}"`);
    deviceIds.add(d.id);
    if (!DEVICE_CLASSES.includes(d.class))
      problem(['devices', i, 'class'], `unknown device class "${d.class}"${didYouMean(d.class, DEVICE_CLASSES)}`);
    const conn = connIds.get(d.connection);
    if (!conn) problem(['devices', i, 'connection'], `no connection "${d.connection}"${didYouMean(d.connection, connIds.keys())}`);
    const wt = d.tags['water_type'];
    if (wt !== undefined && !(WATER_TYPES as readonly string[]).includes(wt))
      problem(['devices', i, 'tags', 'water_type'], `water_type must be one of ${WATER_TYPES.join(', ')}`);
  });

  for (const p of transitProblems(c.transit, new Map(c.devices.map((d) => [d.id, d])))) problem(p.path, p.message);

  c.discover.forEach((r, i) => {
    if (!connIds.has(r.connection)) problem(['discover', i, 'connection'], `no connection "${r.connection}"${didYouMean(r.connection, connIds.keys())}`);
    if (!DEVICE_CLASSES.includes(r.class)) problem(['discover', i, 'class'], `unknown device class "${r.class}"${didYouMean(r.class, DEVICE_CLASSES)}`);
  });

  const sinkIds = new Set<string>();
  c.sinks.forEach((s, i) => {
    const id = s.id ?? s.type;
    if (sinkIds.has(id)) problem(['sinks', i, 'id'], `two sinks are called "${id}": give each an id`);
    sinkIds.add(id);
    if (s.start_from !== 'now' && s.start_from !== 'earliest' && Number.isNaN(Date.parse(s.start_from)))
      problem(['sinks', i, 'start_from'], 'must be "now", "earliest" or an ISO time');
  });

  c.targets.forEach((t, i) => {
    if (!KPI_NAMES.includes(t.kpi)) problem(['targets', i, 'kpi'], `unknown KPI "${t.kpi}"${didYouMean(t.kpi, KPI_NAMES)}`);
    if (t.min === undefined && t.max === undefined) problem(['targets', i], 'a target needs min or max');
    if ('device' in t.scope && !deviceIds.has(t.scope.device)) problem(['targets', i, 'scope', 'device'], `no device "${t.scope.device}"`);
  });

  const emb = c.broker.embedded;
  if (emb && !isLoopback(emb.host) && emb.users.length === 0)
    problem(['broker', 'embedded', 'users'], `the embedded broker listens on ${emb.host}: users are required off loopback`);
  // Users once got `#` when they listed no filters; one with none now can do nothing at all.
  emb?.users.forEach((u, i) => {
    if (u.publish.length === 0 && u.subscribe.length === 0)
      problem(['broker', 'embedded', 'users', i], `user "${u.username}" may neither publish nor subscribe: list its topic filters in publish/subscribe (there is no default)`);
  });
  if (emb?.tls && !isLoopback(emb.tls.host ?? emb.host) && emb.users.length === 0)
    problem(['broker', 'embedded', 'users'], `the embedded broker's mqtts listener is on ${emb.tls.host ?? emb.host}: users are required off loopback`);
  if (emb?.tls && emb.tls.client_certificates !== 'none' && !emb.tls.ca)
    problem(['broker', 'embedded', 'tls', 'ca'], `client_certificates: ${emb.tls.client_certificates} needs the CA that signs them`);
  if (!isLoopback(c.api.host) && c.api.tokens.length === 0 && c.api.admin_tokens.length === 0)
    problem(['api', 'tokens'], `the API listens on ${c.api.host}: tokens are required off loopback`);
  const names = new Set<string>();
  namedTokens(c.api.admin_tokens).forEach(({ name, token: t }, i) => {
    if (names.has(name)) problem(['api', 'admin_tokens', i, 'name'], `token name ${name} is used twice`);
    names.add(name);
    if (c.api.tokens.includes(t)) problem(['api', 'admin_tokens', i], 'this token is also in api.tokens: give each scope its own token');
  });
  const lim = c.api.limits;
  if (lim.header_timeout < 100) problem(['api', 'limits', 'header_timeout'], 'must be at least 100ms');
  if (lim.request_timeout < lim.header_timeout) problem(['api', 'limits', 'request_timeout'], 'must not be shorter than header_timeout');
  if (lim.idle_timeout < 1000) problem(['api', 'limits', 'idle_timeout'], 'must be at least 1s');
  if (lim.keep_alive_timeout < 100) problem(['api', 'limits', 'keep_alive_timeout'], 'must be at least 100ms');
  if (lim.live_streams_per_client > lim.live_streams) problem(['api', 'limits', 'live_streams_per_client'], 'must not exceed live_streams');
  if (lim.live_buffer < 4096) problem(['api', 'limits', 'live_buffer'], 'must be at least 4kB');

  if (Number.isNaN(Date.parse(c.simulators.start ?? '2000-01-01')))
    problem(['simulators', 'start'], 'must be an ISO time');
  const zone = timeZoneProblem(c.site.timezone);
  if (zone) problem(['site', 'timezone'], zone);
}
