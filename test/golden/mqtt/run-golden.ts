import { fileURLToPath } from 'node:url';
import { readGoldenFiles } from '../../helpers/golden.js';
import type { EventReading, Reading } from '../../../gateway/model/types.js';
import type { Profile } from '../../../drivers/profiles/schema.js';
import { decodeInput, prepare } from '../../../drivers/mqtt/message.js';
import { asMqttProfile, deviceRuntime, refusal, remember } from '../../../drivers/mqtt/runtime.js';
import { compileTopic } from '../../../drivers/mqtt/topic.js';

/**
 * Golden cases: raw MQTT input → expected readings and events (or the rejection reason), one
 * YAML file per profile. The decode path is the driver's own (prepare → decode → ordering checks).
 */
export const GOLDEN_DIR = fileURLToPath(new URL('.', import.meta.url));

export interface GoldenCase {
  name: string;
  topic?: string;
  payload?: unknown;
  raw?: string;
  chirpstack?: { fPort: number; hex?: string; object?: Record<string, unknown>; time?: string; tags?: Record<string, string> };
  ttn?: { f_port?: number; hex?: string; decoded_payload?: Record<string, unknown>; received_at?: string };
  received_at?: string | number;
  readings?: (Omit<Reading, 'ts' | 'device'> & { ts: string | number; device?: string })[];
  events?: (Omit<EventReading, 'ts' | 'device'> & { ts: string | number; device?: string })[];
  reject?: string;
}

export interface GoldenFile {
  profile: string;
  class: string;
  device: string;
  topic: string;
  cases: GoldenCase[];
  file: string;
}

export function goldenFiles(): GoldenFile[] {
  return readGoldenFiles<Omit<GoldenFile, 'file'>>(GOLDEN_DIR);
}

export const time = (v: string | number): number => (typeof v === 'number' ? v : Date.parse(v));

export function payloadOf(c: GoldenCase, device: string): Buffer {
  if (c.raw !== undefined) return Buffer.from(c.raw);
  if (c.chirpstack) {
    const cs = c.chirpstack;
    const body: Record<string, unknown> = {
      deduplicationId: '3d1c5c1e-1f43-4d0c-9d8e-7e1f0a3c2b10',
      time: cs.time ?? '2024-11-22T02:00:00Z',
      deviceInfo: { tenantId: 't', applicationId: 'app', deviceProfileName: 'p', deviceName: device, devEui: 'a840410000000001', tags: cs.tags ?? {} },
      devAddr: '00000001',
      fCnt: 10,
      fPort: cs.fPort,
      confirmed: false,
      rxInfo: [{ gatewayId: '0016c001ff10a235', rssi: -80, snr: 7.5 }],
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
    const body = {
      end_device_ids: { device_id: device, application_ids: { application_id: 'community' }, dev_eui: 'A840410000000001' },
      received_at: t.received_at ?? '2024-11-22T02:00:00Z',
      uplink_message: up,
    };
    return Buffer.from(JSON.stringify(body));
  }
  return Buffer.from(JSON.stringify(c.payload));
}

export interface Outcome {
  readings?: Reading[];
  events?: EventReading[];
  reject?: string;
}

/** Run a file's cases in order through one device (so ordering and duplicate checks apply). */
export function runGolden(g: GoldenFile, profiles: ReadonlyMap<string, Profile>): { name: string; got: Outcome; want: Outcome }[] {
  const profile = profiles.get(g.profile);
  if (!profile) throw new Error(`${g.file}: no profile ${g.profile}`);
  const rt = deviceRuntime({ id: g.device, class: g.class }, asMqttProfile(profile), false);
  const template = compileTopic(rt.profile.topic ?? '#', { device: g.device });
  return g.cases.map((c) => {
    const reader = c.ttn ? { ...rt, envelope: 'ttn' as const } : rt;
    const topic = c.topic ?? g.topic;
    const vars = template.match(topic) ?? {};
    const payload = payloadOf(c, g.device);
    const want: Outcome = c.reject
      ? { reject: c.reject }
      : {
          readings: (c.readings ?? []).map((r) => ({ ...r, device: r.device ?? g.device, ts: time(r.ts) })) as Reading[],
          events: (c.events ?? []).map((e) => ({ ...e, device: e.device ?? g.device, ts: time(e.ts) })) as EventReading[],
        };
    const received = time(c.received_at ?? '2024-11-22T02:00:05Z');
    const prep = prepare(reader, payload);
    if (!prep.ok) return { name: c.name, got: { reject: prep.problem.reason }, want };
    const dec = rt.decoder.decode(g.device, decodeInput(prep.unwrapped, vars, received));
    if (!dec.ok) return { name: c.name, got: { reject: dec.problem.reason }, want };
    const why = refusal(rt, dec.value.ts, dec.value.hasSourceTs, payload);
    if (why) return { name: c.name, got: { reject: why }, want };
    remember(rt, dec.value.ts, dec.value.hasSourceTs, payload, received);
    return { name: c.name, got: { readings: dec.value.readings, events: dec.value.events }, want };
  });
}
