import { z } from 'zod';
import { DEVICE_CLASSES, WATER_TYPES } from '../model/catalog.js';
import { KPI_NAMES, KPI_WINDOWS } from '../kpi/names.js';
import { didYouMean } from './suggest.js';
import { duration, isLoopback, port, size, slug, strict } from './zod-helpers.js';

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
  /**
   * Topic filters this user may publish to / subscribe to; `{username}` expands to the user's
   * name. Nothing by default: a user gets only what is listed (`#` never covers `$SYS`).
   */
  publish: z.array(z.string()).default([]),
  subscribe: z.array(z.string()).default([]),
  /** Client ids this user may connect with (overrides broker.embedded.client_ids). */
  client_ids: z.array(z.string().min(1)).optional(),
});

const brokerTls = strict({
  /** Listen address of the mqtts listener (default: broker.embedded.host). */
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).default(8883),
  /** PEM files: the broker's certificate (chain) and private key. */
  cert: z.string(),
  key: z.string(),
  /** PEM file of the CA that signs client certificates. */
  ca: z.string().optional(),
  /**
   * `none`: passwords only. `optional`: a client certificate signed by `ca` logs in as the user
   * named by its CN, without a password; clients without one use their password. `require`: the
   * TLS handshake fails without a valid client certificate.
   */
  client_certificates: z.enum(['none', 'optional', 'require']).default('none'),
});

const broker = strict({
  embedded: strict({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
    users: z.array(brokerUser).default([]),
    /** Open sockets, counted from accept (logged in or not). */
    max_clients: z.number().int().positive().default(2000),
    max_payload: size('256kB'),
    /** Largest packet before CONNECT is accepted (CONNECT with its will); bigger closes the socket. */
    max_connect_packet: size('8kB'),
    /** A socket that has not completed a valid CONNECT within this time is closed. */
    connect_timeout: duration('10s'),
    /** Failed logins from one address within login_failure_window before it is refused outright. */
    max_login_failures: z.number().int().positive().default(10),
    login_failure_window: duration('1m'),
    /** Client ids a user may take (`{username}` expands, `*` any run of characters). */
    client_ids: z.array(z.string().min(1)).min(1).default(['{username}', '{username}-*']),
    /** An mqtts listener beside the plain one. */
    tls: brokerTls.optional(),
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

const modbusCommon = {
  id: slug,
  timeout: duration('1s'),
  /** Pause between the end of one exchange and the next request on this link. */
  gap: duration('20ms'),
  retries: z.number().int().min(0).max(10).default(1),
  reconnect_min: duration('500ms'),
  reconnect_max: duration('30s'),
  /** Quarantine of a device that stops answering: first delay and cap. */
  quarantine_min: duration('2s'),
  quarantine_max: duration('5m'),
};

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

const connection = z.discriminatedUnion('protocol', [
  strict({ ...modbusCommon, protocol: z.literal('modbus-tcp'), host: z.string(), port: port.default(502) }),
  strict({
    ...modbusCommon,
    protocol: z.literal('modbus-rtu-over-tcp'),
    host: z.string(),
    port: port.default(502),
  }),
  strict({
    ...modbusCommon,
    protocol: z.literal('modbus-rtu'),
    path: z.string(),
    baud: z.number().int().positive().default(9600),
    parity: z.enum(['none', 'even', 'odd']).default('none'),
    data_bits: z.union([z.literal(7), z.literal(8)]).default(8),
    stop_bits: z.union([z.literal(1), z.literal(2)]).default(1),
  }),
  strict({
    id: slug,
    protocol: z.literal('mqtt'),
    /** `embedded` connects to the gateway's own broker. */
    url: z.string().default('embedded'),
    username: z.string().optional(),
    password: z.string().optional(),
    client_id: z.string().optional(),
    protocol_version: z.union([z.literal(4), z.literal(5)]).default(4),
    clean: z.boolean().default(false),
    keepalive: duration('30s'),
    reconnect_min: duration('500ms'),
    reconnect_max: duration('30s'),
    tls: tls.optional(),
  }),
  strict({
    id: slug,
    protocol: z.literal('opcua'),
    endpoint: z.string().regex(/^opc\.tcp:\/\//, 'must start with opc.tcp://'),
    security_mode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
    security_policy: z.enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).default('None'),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Server certificates (PEM/DER files) to trust. */
    trusted_certificates: z.array(z.string()).default([]),
    timeout: duration('10s'),
    reconnect_max: duration('30s'),
  }),
]);

const device = strict({
  id: slug,
  name: z.string().optional(),
  class: z.string(),
  connection: slug,
  profile: z.string(),
  /** Modbus unit id (slave address). */
  unit: z.number().int().min(0).max(255).optional(),
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
  topic: z.string(),
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
  connections: list(connection),
  devices: list(device),
  discover: list(discover),
  sinks: list(sink),
  emission_factor: emissionFactor.default({ value: 0.55, unit: 'kgCO2/kWh', scope: 'East China grid 2023' }),
  targets: list(target),
  kpi: kpi.default(kpi.parse({})),
  simulators: simulators.default(simulators.parse({})),
}).superRefine(crossCheck);

export type GatewayConfig = z.infer<typeof configSchema>;
export type ConnectionConfig = GatewayConfig['connections'][number];
export type DeviceConfig = GatewayConfig['devices'][number];
export type DiscoverConfig = GatewayConfig['discover'][number];
export type SinkConfig = GatewayConfig['sinks'][number];
export type TargetConfig = GatewayConfig['targets'][number];
export type Protocol = ConnectionConfig['protocol'];

type Raw = z.output<typeof configSchema>;

/** Rules that span sections: references resolve, ids are unique, auth off loopback. */
function crossCheck(c: Raw, ctx: z.RefinementCtx): void {
  const problem = (path: (string | number)[], message: string) => ctx.addIssue({ code: 'custom', path, message });

  const connIds = new Map<string, ConnectionConfig>();
  c.connections.forEach((conn, i) => {
    if (connIds.has(conn.id)) problem(['connections', i, 'id'], `duplicate connection id "${conn.id}"`);
    connIds.set(conn.id, conn);
  });

  // A device that accepts one TCP connection is broken by a second one: one connection per endpoint.
  const endpoints = new Map<string, string>();
  c.connections.forEach((conn, i) => {
    if (conn.protocol !== 'modbus-tcp' && conn.protocol !== 'modbus-rtu-over-tcp') return;
    const key = `${conn.host}:${conn.port}`;
    const other = endpoints.get(key);
    if (other) problem(['connections', i, 'host'], `${key} is already opened by connection "${other}"; put both devices on one connection`);
    endpoints.set(key, conn.id);
  });

  const deviceIds = new Set<string>();
  c.devices.forEach((d, i) => {
    if (deviceIds.has(d.id)) problem(['devices', i, 'id'], `duplicate device id "${d.id}"`);
    deviceIds.add(d.id);
    if (!DEVICE_CLASSES.includes(d.class))
      problem(['devices', i, 'class'], `unknown device class "${d.class}"${didYouMean(d.class, DEVICE_CLASSES)}`);
    const conn = connIds.get(d.connection);
    if (!conn) problem(['devices', i, 'connection'], `no connection "${d.connection}"${didYouMean(d.connection, connIds.keys())}`);
    if (conn?.protocol.startsWith('modbus') && d.unit === undefined)
      problem(['devices', i, 'unit'], 'a Modbus device needs a unit id');
    const wt = d.tags['water_type'];
    if (wt !== undefined && !(WATER_TYPES as readonly string[]).includes(wt))
      problem(['devices', i, 'tags', 'water_type'], `water_type must be one of ${WATER_TYPES.join(', ')}`);
  });

  c.discover.forEach((r, i) => {
    if (!connIds.has(r.connection)) problem(['discover', i, 'connection'], `no connection "${r.connection}"`);
    else if (connIds.get(r.connection)?.protocol !== 'mqtt') problem(['discover', i, 'connection'], 'discovery needs an mqtt connection');
    if (!DEVICE_CLASSES.includes(r.class)) problem(['discover', i, 'class'], `unknown device class "${r.class}"${didYouMean(r.class, DEVICE_CLASSES)}`);
  });

  const sinkIds = new Set<string>();
  c.sinks.forEach((s, i) => {
    const id = s.id ?? s.type;
    if (sinkIds.has(id)) problem(['sinks', i, 'id'], `two sinks are called "${id}": give each an id`);
    sinkIds.add(id);
    if (s.type === 'mqtt' && connIds.get(s.connection)?.protocol !== 'mqtt')
      problem(['sinks', i, 'connection'], `no mqtt connection "${s.connection}"`);
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
