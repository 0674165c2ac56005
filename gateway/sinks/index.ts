import type { MqttClient } from 'mqtt';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { GatewayConfig, SinkConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { redactSecrets } from '../model/redact.js';
import type { Store } from '../store/store.js';
import { DeadLetters } from './dead-letters.js';
import { SinkWriteError } from './errors.js';
import { influxdb1Writer } from './influxdb1.js';
import { influxdb2Writer } from './influxdb2.js';
import { KpiExport } from './kpi-export.js';
import type { KpiOutbox } from '../kpi/outbox.js';
import { SinkMetrics } from './metrics.js';
import { connectMqtt, mqttWriter, type EmbeddedBrokerInfo } from './mqtt.js';
import { warnIfUnverified } from './tls.js';
import { SINK_CONSUMER_PREFIX, SinkRunner, type SinkHealth } from './runner.js';
import type { SinkWriter } from './types.js';
import { mqttConnectionSchema, type MqttConnection } from '../../drivers/mqtt/connection-schema.js';

export type { SinkHealth } from './runner.js';
export { DeadLetters, type DeadLetter } from './dead-letters.js';
export type { EmbeddedBrokerInfo } from './mqtt.js';
export { checkSinks } from './checks.js';

export interface SinkDeps {
  clock: Clock;
  log: Logger;
  /** The gateway's shared prom-client registry. */
  registry: Registry;
  /** A client the gateway already holds for an mqtt connection; else the sink connects its own. */
  mqttClientFor?: (connectionId: string) => MqttClient | undefined;
  /** Needed when an mqtt sink names a connection whose url is `embedded`. */
  embeddedBroker?: EmbeddedBrokerInfo;
  /** Jitter source (tests). */
  random?: () => number;
  /** The KPI northbound log (gateway/kpi/outbox.ts): every sink also drains it after its own cursor. */
  kpiOutbox?: KpiOutbox;
}

export interface Sinks {
  start(): Promise<void>;
  /**
   * Idempotent. With `flushMs`, first sends what is committed (no waiting for full batches) for
   * at most that long; whatever is left stays in the store and leaves after the next start.
   */
  stop(opts?: { flushMs?: number }): Promise<void>;
  /** For /api/health: [{id, type, state, backlog, backlogAge, lastAck, lastError, deadLetters}]. */
  health(): SinkHealth[];
  /** Wake the sinks after a commit, so a full batch leaves without waiting for the next poll. */
  notify(): void;
  /**
   * Publish a KPI alert on every enabled mqtt sink, at `{topic_prefix}/alerts` (spec/interfaces.md);
   * false when there is no mqtt sink. Alerts are not in the store's log: an alert raised while a
   * sink is disconnected waits in its client's queue and is also kept at /api/alerts.
   */
  publishAlert(site: string, payload: string): boolean;
  readonly deadLetters: DeadLetters;
}

export const sinkId = (s: SinkConfig): string => s.id ?? s.type;

/**
 * Every enabled sink of the config, each reading the store's log after its own durable cursor
 * (consumer `sink:{id}` in the store's cursors table, which retention respects). Create does
 * no I/O; start opens connections and begins draining; stop is idempotent.
 */
export function createSinks(config: Readonly<GatewayConfig>, store: Store, deps: SinkDeps): Sinks {
  const metrics = new SinkMetrics(deps.registry);
  let deadLetters: DeadLetters | undefined;
  const letters = () => (deadLetters ??= new DeadLetters(store));
  const owned: MqttClient[] = [];
  const alertOutlets: ((site: string, payload: string) => void)[] = [];
  const runners: SinkRunner[] = [];
  const kpiExports: KpiExport[] = [];
  let started = false;

  const prefixes = new Map<string, (site: string) => string>();
  const writerFor = (s: SinkConfig, id: string): SinkWriter<unknown> => {
    const wdeps = { deviceTags: (d: string) => store.deviceTags(d), clock: deps.clock };
    switch (s.type) {
      case 'influxdb2':
        warnIfUnverified(deps.log, id, s.url, s.tls);
        return influxdb2Writer(s, wdeps) as SinkWriter<unknown>;
      case 'influxdb1':
        warnIfUnverified(deps.log, id, s.url, s.tls);
        return influxdb1Writer(s, wdeps) as SinkWriter<unknown>;
      case 'mqtt': {
        let client: MqttClient | undefined;
        const writer = mqttWriter(s, () => client);
        prefixes.set(id, writer.prefix);
        alertOutlets.push((site, payload) => {
          const topic = `${writer.prefix(site)}/alerts`;
          client?.publish(topic, payload, { qos: 1 }, (err) => {
            if (err) deps.log.warn({ sink: id, topic, err: err.message }, 'alert not published');
          });
        });
        return {
          ...writer,
          start() {
            client = deps.mqttClientFor?.(s.connection);
            if (client) return;
            // The site checked it is an mqtt connection and the site's config holds it parsed by
            // the mqtt driver's schema; a config parsed without the site holds it as written, so
            // it is parsed here (defaults, durations in ms).
            const conn = config.connections.find((c) => c.id === s.connection);
            if (conn?.protocol !== 'mqtt') throw new SinkWriteError('SINK_CONFIG', `sink ${id}: no mqtt connection "${s.connection}"`);
            const raw = mqttConnectionSchema.safeParse(conn);
            const mqttConn = raw.success ? raw.data : (conn as MqttConnection);
            warnIfUnverified(deps.log, id, mqttConn.url, mqttConn.tls);
            const own = connectMqtt(mqttConn, id, deps.embeddedBroker);
            own.on('error', (err) => deps.log.warn({ sink: id, err: redactSecrets(err.message) }, 'northbound mqtt error'));
            owned.push(own);
            client = own;
          },
        } as SinkWriter<unknown>;
      }
    }
  };

  return {
    get deadLetters() {
      return letters();
    },
    async start() {
      if (started) return;
      started = true;
      for (const s of config.sinks) {
        if (!s.enabled) continue;
        const id = sinkId(s);
        const writer = writerFor(s, id);
        const runner = new SinkRunner({
          id,
          config: s,
          store,
          writer,
          clock: deps.clock,
          log: deps.log.child({ sink: id }),
          metrics,
          deadLetters: letters(),
          ...(deps.random ? { random: deps.random } : {}),
        });
        runners.push(runner);
        await runner.start();
        if (deps.kpiOutbox) {
          const prefix = prefixes.get(id);
          const exp = new KpiExport({ id, config: s, outbox: deps.kpiOutbox, writer, clock: deps.clock, log: deps.log.child({ sink: id, log: 'kpis' }), metrics, ...(prefix ? { prefix } : {}), ...(deps.random ? { random: deps.random } : {}) });
          kpiExports.push(exp);
          exp.start();
        }
        deps.log.info({ sink: id, type: s.type, cursor: store.getCursor(runner.consumer) }, 'sink started');
      }
      // A cursor of a sink no longer configured (or disabled) still holds back retention.
      const live = new Set(runners.map((r) => r.consumer));
      const orphans = store.listCursors().filter((c) => c.consumer.startsWith(SINK_CONSUMER_PREFIX) && !live.has(c.consumer));
      if (orphans.length) {
        deps.log.warn(
          { cursors: orphans.map((c) => c.consumer) },
          "the cursors of sinks that are not running keep what they have not sent from retention (up to max_disk); for a sink removed for good, remove its row (consumer sink:ID) from the store's cursors table while the gateway is stopped",
        );
      }
    },
    async stop(opts = {}) {
      const { flushMs } = opts;
      if (flushMs && runners.length) {
        const t0 = performance.now();
        const done = await Promise.all([...runners.map((r) => r.flush(flushMs)), ...kpiExports.map((k) => k.flush(flushMs))]);
        const left = runners.filter((_, i) => !done[i]).map((r) => r.health());
        if (left.length) deps.log.warn({ sinks: left.map((h) => ({ id: h.id, state: h.state, backlog: h.backlog })) }, 'stopping with a sink backlog: it is kept in the store and sent after the next start');
        else deps.log.info({ ms: Math.round(performance.now() - t0) }, 'sinks flushed');
      }
      await Promise.all(kpiExports.splice(0).map((k) => k.stop()));
      const all = runners.splice(0);
      await Promise.all(all.map((r) => r.stop()));
      // Forced: an unacknowledged message is still after the cursor and is sent again next time.
      await Promise.all(owned.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
      started = false;
    },
    health: () => runners.map((r) => r.health()),
    publishAlert(site, payload) {
      if (!started || alertOutlets.length === 0) return false;
      for (const out of alertOutlets) out(site, payload);
      return true;
    },
    notify() {
      for (const r of runners) r.poke();
    },
  };
}
