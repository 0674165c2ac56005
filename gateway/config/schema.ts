import { z } from 'zod';
import { DEVICE_CLASSES, WATER_TYPES } from '../model/catalog.js';
import { KPI_NAMES, KPI_WINDOWS } from '../kpi/names.js';
import { didYouMean } from './suggest.js';
import { duration, isLoopback, size, slug, strict } from './zod-helpers.js';

/** The whole config file of spec/interfaces.md. Types come from here (z.infer), never written twice. */

const site = strict({
  id: slug,
  name: z.string().optional(),
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
  batch: strict({ max_rows: z.number().int().min(1).max(100_000).default(5000), max_delay: duration('0ms') }).default({
    max_rows: 5000,
    max_delay: 0,
  }),
});

const brokerUser = strict({
  username: z.string().min(1),
  /** scrypt hash from `fcgw hash-password`; never a clear-text password. */
  password_hash: z.string().regex(/^scrypt\$/, 'must be a hash from `fcgw hash-password` (starts with "scrypt$")'),
  /** Topic filters this user may publish to / subscribe to; `{username}` expands to the user's name. */
  publish: z.array(z.string()).default(['#']),
  subscribe: z.array(z.string()).default(['#']),
});

const broker = strict({
  embedded: strict({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
    users: z.array(brokerUser).default([]),
    max_clients: z.number().int().positive().default(2000),
    max_payload: size('256kB'),
  }).optional(),
});

const api = strict({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
  /** Bearer tokens; required when the API listens off loopback. */
  tokens: z.array(z.string().min(16, 'tokens must be at least 16 characters')).default([]),
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

/**
 * A connection: its id and protocol only. The rest of an entry belongs to the driver of that
 * protocol, whose own schema (drivers/<protocol>/connection-schema.ts) gateway/site applies.
 */
const connection = z.looseObject({ id: slug, protocol: z.string() });

/** Directories of device profiles of one's own, besides drivers/profiles (relative to the config file). */
const profiles = strict({ dirs: z.array(z.string()).default([]) });

const device = strict({
  id: slug,
  name: z.string().optional(),
  class: z.string(),
  connection: slug,
  profile: z.string(),
  /** Modbus unit id (slave address). */
  unit: z.number().int().min(0).max(255).optional(),
  /** A meter's address on an RS-485 bus, as on its label (DL/T 645: 12 digits, CJ/T 188: 14). */
  address: z.string().optional(),
  /** OCPP: the charge point's identity in its URL (default: the device id); `options.connector` picks the connector (1). */
  charge_point_id: z.string().optional(),
  poll: duration().optional(),
  /** Silence after which this device's values are marked stale (default: pipeline.stale_after or 3 polls). */
  stale_after: duration().optional(),
  /** MQTT: topic override for this device (else the profile's template). */
  topic: z.string().optional(),
  /** Static tags carried on every series (building, water_type, role…). */
  tags: z.record(z.string(), z.string()).default({}),
  /** Profile options (e.g. `invert: true` for a meter with the opposite sign). */
  options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  enabled: z.boolean().default(true),
});

const discover = strict({
  connection: slug,
  /** MQTT: the topic filter with {fields} (an OCPP rule has none: the charge point id is the field). */
  topic: z.string().optional(),
  envelope: z.enum(['json', 'chirpstack', 'ttn']).default('json'),
  profile: z.string(),
  class: z.string(),
  /** Device id template from topic fields and payload paths, e.g. "space-{devEui}". */
  id: z.string(),
  tags: z.record(z.string(), z.string()).default({}),
  /** Silence after which a discovered device is stale (LoRaWAN meters often report hourly). */
  stale_after: duration().optional(),
  /** Upper bound on devices this rule may create (protects the store from a topic flood). */
  max_devices: z.number().int().positive().default(10_000),
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
  }),
  strict({
    ...sinkCommon,
    type: z.literal('influxdb1'),
    url: z.string().url(),
    database: z.string(),
    retention_policy: z.string().optional(),
    username: z.string().optional(),
    password: z.string().optional(),
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
  broker: broker.default({}),
  api: api.default(api.parse({})),
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
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type ConnectionConfig = GatewayConfig['connections'][number];
export type DeviceConfig = GatewayConfig['devices'][number];
export type DiscoverConfig = GatewayConfig['discover'][number];
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
  if (!isLoopback(c.api.host) && c.api.tokens.length === 0)
    problem(['api', 'tokens'], `the API listens on ${c.api.host}: tokens are required off loopback`);

  if (Number.isNaN(Date.parse(c.simulators.start ?? '2000-01-01')))
    problem(['simulators', 'start'], 'must be an ISO time');
  try {
    new Intl.DateTimeFormat('en', { timeZone: c.site.timezone });
  } catch {
    problem(['site', 'timezone'], `unknown time zone "${c.site.timezone}" (use an IANA name such as Asia/Shanghai)`);
  }
}
