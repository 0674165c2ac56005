import { createRequire } from 'node:module';
import type { IClientOptions, MqttClient } from 'mqtt';
import type { SinkConfig } from '../config/schema.js';
import type { MqttConnection } from '../../drivers/mqtt/connection-schema.js';
import { SinkWriteError } from './errors.js';
import { tlsOptions } from './tls.js';
import type { ItemRejection, SinkItem, SinkWriter } from './types.js';

type MqttSinkConfig = Extract<SinkConfig, { type: 'mqtt' }>;

export interface MqttMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Most series whose newest retained timestamp is remembered (one entry per topic). */
const RETAIN_MEMORY = 200_000;

/**
 * Northbound MQTT (spec/interfaces.md): `{prefix}/{class}/{device}/{metric}` →
 * {"ts","value","quality"} (plus "reason" when not good) and `{prefix}/events/{type}` →
 * {"ts","device","class","attributes"}, QoS 1 by default. With `retain`, a sample is retained
 * only when it is not older than the last one retained on its topic, so a backfill does not
 * replace the latest value with an old one.
 *
 * Late data is forwarded in store order with its own timestamps, marked `"backfill": true` when it
 * is older than what this sink already sent for the same series (or device and event type), so a
 * consumer can tell a backfill (a logger's replay, a handheld's batch) from live data. The memory
 * is per sink run: after a restart the first message of a series is taken as live.
 */
export function mqttWriter(cfg: MqttSinkConfig, client: () => MqttClient | undefined): SinkWriter<MqttMessage> & { prefix(site: string): string } {
  const retainedTs = new Map<string, number>();
  const prefixes = new Map<string, string>();
  /** `topic_prefix` for a site, e.g. fc/lianhua (also where KPI alerts go: `{prefix}/alerts`). */
  const prefix = (site: string) => {
    let p = prefixes.get(site);
    if (p === undefined) {
      p = cfg.topic_prefix.replaceAll('{site}', site).replace(/\/+$/, '');
      prefixes.set(site, p);
    }
    return p;
  };
  const retainFor = (topic: string, ts: number): boolean => {
    if (!cfg.retain) return false;
    const prev = retainedTs.get(topic);
    if (prev !== undefined && ts < prev) return false;
    if (prev === undefined && retainedTs.size >= RETAIN_MEMORY) retainedTs.clear();
    retainedTs.set(topic, ts);
    return true;
  };
  const newestSent = new Map<string, number>();
  /** Decisions by log position: a batch sent again after a failure is encoded again, and must say the same. */
  const decided = new Map<string, boolean>();
  /** Older than the newest sent on this key: a backfill. */
  const backfill = (key: string, ts: number, seq: string): boolean => {
    const known = decided.get(seq);
    if (known !== undefined) return known;
    const prev = newestSent.get(key);
    const late = prev !== undefined && ts < prev;
    if (!late) {
      if (prev === undefined && newestSent.size >= RETAIN_MEMORY) newestSent.clear();
      newestSent.set(key, ts);
    }
    if (decided.size >= RETAIN_MEMORY) decided.clear();
    decided.set(seq, late);
    return late;
  };
  return {
    type: 'mqtt',
    prefix,
    encode(item: SinkItem): MqttMessage {
      if (item.log === 'samples') {
        const s = item.record;
        const topic = `${prefix(s.site)}/${s.class}/${s.device}/${s.metric}`;
        const body: Record<string, unknown> = { ts: s.ts, value: s.value, quality: s.quality };
        if (s.reason) body['reason'] = s.reason;
        if (backfill(topic, s.ts, `s${s.seq}`)) body['backfill'] = true;
        return { topic, payload: JSON.stringify(body), retain: retainFor(topic, s.ts) };
      }
      const e = item.record;
      const body: Record<string, unknown> = { ts: e.ts, device: e.device, class: e.class, attributes: e.attributes };
      if (backfill(`${e.site}\u0000${e.device}\u0000${e.type}`, e.ts, `e${e.seq}`)) body['backfill'] = true;
      return { topic: `${prefix(e.site)}/events/${e.type}`, payload: JSON.stringify(body), retain: false };
    },
    text: (m) => `${m.topic} ${m.payload}`,
    ready: () => client()?.connected === true,
    send(batch, signal): Promise<ItemRejection[]> {
      const c = client();
      if (!c?.connected) return Promise.reject(new SinkWriteError('SINK_NOT_CONNECTED', `mqtt connection ${cfg.connection} is not connected`));
      return new Promise((resolve, reject) => {
        const rejections: ItemRejection[] = [];
        let open = batch.length;
        let settled = false;
        const finish = (err?: SinkWriteError) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (err) reject(err);
          else resolve(rejections);
        };
        const onAbort = () => finish(new SinkWriteError('SINK_ABORTED', 'aborted'));
        const timer = setTimeout(
          () => finish(new SinkWriteError('SINK_TIMEOUT', `${open} of ${batch.length} messages not acknowledged within ${cfg.timeout} ms`)),
          cfg.timeout,
        );
        signal.addEventListener('abort', onAbort);
        if (batch.length === 0) return finish();
        batch.forEach((m, index) => {
          c.publish(m.topic, m.payload, { qos: cfg.qos, retain: m.retain }, (err) => {
            if (err) {
              const code = (err as { code?: unknown }).code;
              // MQTT 5 negative PUBACK (reason code ≥ 0x80): the broker refuses this message for good.
              if (typeof code === 'number' && code >= 0x80) rejections.push({ index, reason: err.message, status: code });
              else return finish(new SinkWriteError('SINK_NETWORK', err.message, { cause: err }));
            }
            if (--open === 0) finish();
          });
        });
      });
    },
  };
}

export interface EmbeddedBrokerInfo {
  url: string;
  internalUser: { username: string; password: string };
}

/** mqtt.js options for a northbound client of a configured connection (its own client id). */
export function mqttClientOptions(conn: MqttConnection, sinkId: string, embedded?: EmbeddedBrokerInfo): { url: string; options: IClientOptions } {
  const isEmbedded = conn.url === 'embedded';
  if (isEmbedded && !embedded) throw new SinkWriteError('SINK_CONFIG', `mqtt connection ${conn.id} is "embedded" but the gateway runs no embedded broker`);
  const options: IClientOptions = {
    clientId: `${conn.client_id ?? 'fcgw'}-sink-${sinkId}`,
    clean: conn.clean,
    keepalive: Math.max(1, Math.round(conn.keepalive / 1000)),
    reconnectPeriod: conn.reconnect_min,
    connectTimeout: 10_000,
    protocolVersion: conn.protocol_version,
  };
  if (isEmbedded && embedded) {
    options.username = embedded.internalUser.username;
    options.password = embedded.internalUser.password;
  } else {
    if (conn.username !== undefined) options.username = conn.username;
    if (conn.password !== undefined) options.password = conn.password;
  }
  // mqtts:// is verified against the system's CAs, or tls.ca, unless tls.reject_unauthorized is false.
  const tls = tlsOptions(conn.tls, `mqtt connection ${conn.id}`);
  if (tls) Object.assign(options, tls);
  return { url: isEmbedded && embedded ? embedded.url : conn.url, options };
}

/** Connect a client the sink owns (when the gateway does not share one for the connection). */
export function connectMqtt(conn: MqttConnection, sinkId: string, embedded?: EmbeddedBrokerInfo): MqttClient {
  const { url, options } = mqttClientOptions(conn, sinkId, embedded);
  // mqtt.js loads with the first mqtt sink that needs its own client (a gateway without one never pays for it).
  const { connect } = createRequire(import.meta.url)('mqtt') as typeof import('mqtt');
  return connect(url, options);
}
