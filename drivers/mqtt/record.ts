import { readFileSync } from 'node:fs';
import { CATALOG, PII_ATTRIBUTE_NAMES } from '../../gateway/model/catalog.js';
import type { GoldenDoc } from '../core/golden.js';
import type { FromRecording, RecordArgs, Recording } from '../core/recording.js';
import type { Loaded } from '../profiles/schema.js';
import type { MqttConnection } from './connection-schema.js';
import type { MqttProfile } from './profile-schema.js';
import { compileTopic } from './topic.js';

/**
 * `fcgw record` on an MQTT device: a subscription of its own to the device's topic on the
 * connection's broker (never the gateway's session, which must not lose a message), each message
 * with its topic, payload and receive time. In a JSON payload, the fields the profile maps onto
 * personal event attributes (plates, cards, tracking numbers) are replaced by the site's keyed
 * pseudonyms before the entry is handed on, so the file holds no personal data in clear.
 */
export async function recordMqtt(a: RecordArgs<MqttConnection, Loaded<MqttProfile>>): Promise<void> {
  const c = a.connection;
  if (c.url === 'embedded') throw new Error('record from the broker the devices publish to: url "embedded" is the gateway\'s own (give its address as an mqtt:// url)');
  const topic = a.device.topic ?? a.profile.topic;
  if (!topic) throw new Error(`device ${a.device.id} has no topic`);
  const filter = compileTopic(topic, { device: a.device.id, ...Object.fromEntries(Object.entries(a.device.options).map(([k, v]) => [k, String(v)])) }).filter;
  const personal = personalPaths(a.profile, a.device.class);
  const { default: mqtt } = await import('mqtt');
  const client = await mqtt.connectAsync(c.url, {
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    clientId: `fcgw-record-${a.device.id}-${process.pid}`,
    clean: true,
    protocolVersion: c.protocol_version,
    reconnectPeriod: c.reconnect_min,
    ...(c.tls ? { ca: c.tls.ca ? readFileSync(c.tls.ca) : undefined, cert: c.tls.cert ? readFileSync(c.tls.cert) : undefined, key: c.tls.key ? readFileSync(c.tls.key) : undefined, rejectUnauthorized: c.tls.reject_unauthorized } : {}),
  });
  try {
    client.on('message', (t, payload) => a.entry(entryOf(t, payload, personal, a.pseudonym)));
    await client.subscribeAsync(filter, { qos: 1 });
    a.ready?.();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, a.durationMs);
      a.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  } finally {
    await client.endAsync();
  }
}

/** JSON paths of the profile that feed personal event attributes. */
function personalPaths(p: MqttProfile, cls: string): string[] {
  const out: string[] = [];
  for (const e of p.events)
    for (const [name, m] of Object.entries(e.attributes)) {
      const pii = CATALOG[cls]?.events[e.type]?.attributes[name]?.pii ?? PII_ATTRIBUTE_NAMES.has(name);
      if (pii && 'path' in m && m.path && !m.path.startsWith('$')) out.push(m.path);
    }
  return out;
}

function entryOf(topic: string, payload: Buffer, personal: readonly string[], pseudonym: (v: string | number | boolean) => string): Recording['entries'][number] {
  const t = Date.now();
  let doc: unknown;
  try {
    doc = JSON.parse(payload.toString('utf8'));
  } catch {
    // Not JSON: kept as bytes (a binary payload carries no field we could recognise).
    return { t, topic, payload: payload.toString('base64'), encoding: 'base64' };
  }
  for (const path of personal) {
    const keys = path.split('.');
    let at: unknown = doc;
    for (const k of keys.slice(0, -1)) at = at !== null && typeof at === 'object' ? (at as Record<string, unknown>)[k] : undefined;
    const last = keys[keys.length - 1] as string;
    if (at !== null && typeof at === 'object' && last in at) {
      const v = (at as Record<string, unknown>)[last];
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') (at as Record<string, unknown>)[last] = pseudonym(v);
    }
  }
  return { t, topic, payload: JSON.stringify(doc) };
}

/** The messages in order, as one golden file (one device: ordering and duplicate checks apply). */
export const mqttFromRecording: FromRecording<Loaded<MqttProfile>> = (_profile, rec: Recording): GoldenDoc => ({
  profile: rec.profile,
  class: rec.device.class,
  device: rec.device.id,
  cases: rec.entries.flatMap((e, i) =>
    'topic' in e ? [{ name: `message ${i + 1} at ${new Date(e.t).toISOString()}`, topic: e.topic, received_at: e.t, ...(e.encoding === 'base64' ? { raw: Buffer.from(e.payload, 'base64').toString('latin1') } : { raw: e.payload }) }] : [],
  ),
});
