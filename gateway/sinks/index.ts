import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GatewayConfig, SinkConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import type { Store } from '../store/store.js';
import { influx1Writer, influx2Writer } from './influx.js';
import { eventLine, sampleLine } from './line-protocol.js';
import { mqttEncoder, mqttWriter } from './mqtt-sink.js';
import { Sink, type SinkEncoder, type SinkHealth } from './sink.js';

export { Sink, type SinkHealth, type SinkOptions, type SinkWriter, type SinkEncoder } from './sink.js';
export { listDeadLetters, type DeadLetterRow } from './dead-letters.js';
export { SinkWriteError } from './errors.js';

export interface EmbeddedBrokerRef {
  url: string;
  internalUser: { username: string; password: string };
}

export interface CreateSinksOptions {
  config: Readonly<Pick<GatewayConfig, 'sinks' | 'connections'>>;
  store: Store;
  clock: Clock;
  log: Logger;
  registry: Registry;
  broker?: EmbeddedBrokerRef | undefined;
}

export interface Sinks {
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): SinkHealth[];
  readonly sinks: readonly Sink<unknown>[];
}

export const lineEncoder: SinkEncoder<string> = { sample: sampleLine, event: eventLine, text: (l) => l };

export function sinkId(c: SinkConfig): string {
  return c.id ?? c.type;
}

/** Build one sink from its config (no I/O until start). */
export function createSink(c: SinkConfig, o: Omit<CreateSinksOptions, 'config'> & { connections: CreateSinksOptions['config']['connections'] }): Sink<unknown> {
  const id = sinkId(c);
  const common = {
    id,
    type: c.type,
    store: o.store,
    clock: o.clock,
    log: o.log.child({ sink: id }),
    registry: o.registry,
    batchSize: c.batch_size,
    flushInterval: c.flush_interval,
    startFrom: c.start_from,
    backoffMax: c.backoff_max,
  };
  if (c.type === 'influxdb2') {
    const writer = influx2Writer({ url: c.url, token: c.token, org: c.org, bucket: c.bucket, gzip: c.gzip, timeout: c.timeout });
    return new Sink<string>({ ...common, writer, encoder: lineEncoder }) as Sink<unknown>;
  }
  if (c.type === 'influxdb1') {
    const writer = influx1Writer({
      url: c.url,
      database: c.database,
      retention_policy: c.retention_policy,
      username: c.username,
      password: c.password,
      timeout: c.timeout,
    });
    return new Sink<string>({ ...common, writer, encoder: lineEncoder }) as Sink<unknown>;
  }
  const connection = o.connections.find((x) => x.id === c.connection);
  if (connection?.protocol !== 'mqtt') throw new Error(`sink ${id}: no mqtt connection "${c.connection}"`);
  const writer = mqttWriter({ connection, embedded: o.broker, sinkId: id, site: o.store.site, qos: c.qos, retain: c.retain, timeout: c.timeout });
  return new Sink({ ...common, writer, encoder: mqttEncoder(c.topic_prefix) }) as Sink<unknown>;
}

/** Every enabled sink of a config; start after the store (and the embedded broker), stop before the store closes. */
export function createSinks(o: CreateSinksOptions): Sinks {
  const sinks = o.config.sinks.filter((c) => c.enabled).map((c) => createSink(c, { ...o, connections: o.config.connections }));
  return {
    sinks,
    async start() {
      for (const s of sinks) await s.start();
    },
    async stop() {
      await Promise.all(sinks.map((s) => s.stop()));
    },
    health: () => sinks.map((s) => s.health()),
  };
}
