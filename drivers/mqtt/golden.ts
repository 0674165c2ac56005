import { createHash } from 'node:crypto';
import type { GoldenDecoded, GoldenDoc } from '../core/golden.js';
import type { Loaded } from '../profiles/schema.js';
import { decodeInput, prepare } from './message.js';
import type { MqttProfile } from './profile-schema.js';
import { deviceRuntime, refusal, remember } from './runtime.js';
import { compileTopic } from './topic.js';

/**
 * MQTT golden cases: raw input (a JSON payload, raw text, or a ChirpStack v4 / TTS v3 uplink
 * built around a frame or a decoded object) → readings and events, or the reason it is refused.
 * A file's cases run in order through one device, so ordering and duplicate checks apply.
 *
 * ```yaml
 * profile: my-sensor
 * class: water_meter            # default: the profile's first class
 * device: wm-01                 # default: golden
 * topic: devices/wm-01/up       # default: the profile's topic with {device} filled in
 * cases:
 *   - name: …
 *     payload: { … }            # or raw: "text", or chirpstack: { fPort, hex | object }, or ttn: { f_port, hex | decoded_payload }
 *     received_at: 2024-11-22T02:00:05Z
 *     readings: [...]           # and/or samples: [...], events: [...], or reject: <reason>
 * ```
 */
export interface MqttCase {
  name?: string;
  topic?: string;
  payload?: unknown;
  raw?: string;
  /** fCnt and deduplicationId default to ones derived from the case's content: two cases are two uplinks unless they say otherwise. */
  chirpstack?: { fPort: number; hex?: string; object?: Record<string, unknown>; time?: string; tags?: Record<string, string>; fCnt?: number; deduplicationId?: string; gatewayId?: string };
  ttn?: { f_port?: number; f_cnt?: number; hex?: string; decoded_payload?: Record<string, unknown>; received_at?: string };
  received_at?: string | number;
}

export const time = (v: string | number): number => (typeof v === 'number' ? v : Date.parse(v));

/** The message a case stands for, in the network server's own JSON where it names one. */
export function payloadOf(c: MqttCase, device: string): Buffer {
  if (c.raw !== undefined) return Buffer.from(c.raw);
  if (c.chirpstack) {
    const cs = c.chirpstack;
    const digest = createHash('sha256').update(JSON.stringify([cs.fPort, cs.hex, cs.object, cs.time])).digest('hex');
    const body: Record<string, unknown> = {
      deduplicationId: cs.deduplicationId ?? `${digest.slice(0, 8)}-${digest.slice(8, 12)}-4${digest.slice(13, 16)}-a${digest.slice(17, 20)}-${digest.slice(20, 32)}`,
      time: cs.time ?? '2024-11-22T02:00:00Z',
      deviceInfo: { tenantId: 't', applicationId: 'app', deviceProfileName: 'p', deviceName: device, devEui: 'a840410000000001', tags: cs.tags ?? {} },
      devAddr: '00000001',
      fCnt: cs.fCnt ?? parseInt(digest.slice(0, 4), 16),
      fPort: cs.fPort,
      confirmed: false,
      rxInfo: [{ gatewayId: cs.gatewayId ?? '0016c001ff10a235', rssi: -80, snr: 7.5 }],
    };
    if (cs.hex !== undefined) body['data'] = Buffer.from(cs.hex.replace(/\s+/g, ''), 'hex').toString('base64');
    if (cs.object) body['object'] = cs.object;
    return Buffer.from(JSON.stringify(body));
  }
  if (c.ttn) {
    const t = c.ttn;
    const up: Record<string, unknown> = { rx_metadata: [{ gateway_ids: { gateway_id: 'gw1' }, rssi: -90, snr: 5 }], settings: {} };
    if (t.f_port !== undefined) up['f_port'] = t.f_port;
    if (t.hex !== undefined) up['frm_payload'] = Buffer.from(t.hex.replace(/\s+/g, ''), 'hex').toString('base64');
    if (t.decoded_payload) up['decoded_payload'] = t.decoded_payload;
    up['f_cnt'] = t.f_cnt ?? parseInt(createHash('sha256').update(JSON.stringify(t)).digest('hex').slice(0, 4), 16);
    const body = {
      end_device_ids: { device_id: device, application_ids: { application_id: 'community' }, dev_eui: 'A840410000000001' },
      received_at: t.received_at ?? '2024-11-22T02:00:00Z',
      uplink_message: up,
    };
    return Buffer.from(JSON.stringify(body));
  }
  return Buffer.from(JSON.stringify(c.payload));
}

export async function mqttGolden(profile: Loaded<MqttProfile>, doc: GoldenDoc): Promise<GoldenDecoded[]> {
  const device = typeof doc['device'] === 'string' ? doc['device'] : 'golden';
  const cls = typeof doc['class'] === 'string' ? doc['class'] : (profile.classes[0] as string);
  const rt = deviceRuntime({ id: device, class: cls }, profile, false);
  const template = compileTopic(rt.profile.topic ?? '#', { device });
  const fileTopic = typeof doc['topic'] === 'string' ? doc['topic'] : template.exact ? template.filter : undefined;
  return doc.cases.map((raw) => {
    const c = raw as MqttCase;
    const none = { class: cls, device, readings: [], events: [] };
    const reader = c.ttn ? { ...rt, envelope: 'ttn' as const } : rt;
    const topic = c.topic ?? fileTopic;
    if (topic === undefined) return { ...none, problems: [`the profile's topic ${template.source} has wildcards: give the file or the case a topic`] };
    const vars = template.match(topic) ?? {};
    const payload = payloadOf(c, device);
    const received = time(c.received_at ?? '2024-11-22T02:00:05Z');
    const prep = prepare(reader, payload);
    if (!prep.ok) return { ...none, reject: prep.problem.reason };
    const dec = rt.decoder.decode(device, decodeInput(prep.unwrapped, vars, received));
    if (!dec.ok) return { ...none, reject: dec.problem.reason };
    const identity = prep.unwrapped.identity ?? [];
    const why = refusal(rt, dec.value.ts, dec.value.hasSourceTs, payload, received, identity);
    if (why) return { ...none, reject: why };
    remember(rt, dec.value.ts, dec.value.hasSourceTs, payload, received, identity);
    return { class: cls, device, readings: dec.value.readings, events: dec.value.events };
  });
}
