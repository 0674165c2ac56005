import type { Codec } from './codecs/index.js';

/**
 * Unwrap a message: plain JSON, a ChirpStack v4 uplink or a The Things Stack v3 uplink.
 * The result is the JSON the profile maps (`data`), the envelope's own timestamp and the
 * envelope fields that id/tag templates and `$meta.` paths may read. Pure.
 */
export type EnvelopeKind = 'json' | 'chirpstack' | 'ttn';

export interface Unwrapped {
  data: unknown;
  /** Time the envelope states (ChirpStack `time`, TTS `received_at`), ms. */
  ts?: number;
  meta: Record<string, unknown>;
  /** Whether `data` came from our codec (false: the network server decoded it, or plain JSON). */
  decodedHere: boolean;
  /**
   * What makes this uplink itself (LoRaWAN): ChirpStack's deduplicationId, and the session
   * address, frame counter, port and bytes. The same frame relayed twice (two network-server
   * instances, a bridge, an integration replayed) has the same; a rejoin's reused counter has
   * other bytes or another address.
   */
  identity?: string[];
}

export interface Problem {
  reason: string;
  detail: string;
}

export type UnwrapResult = { ok: true; value: Unwrapped } | { ok: false; problem: Problem };

const fail = (reason: string, detail: string): { ok: false; problem: Problem } => ({ ok: false, problem: { reason, detail } });

export function parseJson(payload: Buffer): { ok: true; value: unknown } | { ok: false; problem: Problem } {
  try {
    return { ok: true, value: JSON.parse(payload.toString('utf8')) };
  } catch (err) {
    // Only the parser's message: never the payload itself (it may hold personal data).
    return { ok: false, problem: { reason: 'malformed_json', detail: (err as Error).message.slice(0, 120) } };
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function isoMs(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : t;
}

type CodecResult = { ok: true; data: Record<string, unknown> } | { ok: false; problem: Problem };

function runCodec(codec: Codec | undefined, b64: unknown, fPort: unknown): CodecResult {
  if (b64 === undefined || b64 === null || b64 === '') return fail('missing_field', 'no decoded object and no payload bytes');
  if (typeof b64 !== 'string') return fail('wrong_type', `payload bytes: expected a base64 string, got ${Array.isArray(b64) ? 'array' : typeof b64}`);
  if (!codec) return fail('no_codec', 'the payload is not decoded by the network server and the profile names no codec');
  const port = typeof fPort === 'number' ? fPort : 0;
  const bytes = Buffer.from(b64, 'base64');
  let out;
  try {
    out = codec.decodeUplink({ bytes, fPort: port });
  } catch (err) {
    return fail('decode_error', `codec ${codec.name} threw: ${(err as Error).message}`);
  }
  if (out.errors?.length) return fail('decode_error', `codec ${codec.name}: ${out.errors.join('; ')}`);
  if (!out.data) return fail('decode_error', `codec ${codec.name} returned no data`);
  return { ok: true, data: out.data };
}

/**
 * The envelope fields `unwrap` puts in `meta`, documented: what id and tag templates of a discovery
 * rule (`id: "wm-{device_id}"`) and a profile's `$meta.<field>` paths may name, besides the named
 * levels of the rule's topic and the payload paths its profile reads. Each network server's own
 * names work (TTS v3 `device_id`, ChirpStack v4 `devEui`), and the gateway's short ones
 * (`deviceId`, `devEui`, `applicationId`) work for both. `tags.*` reads one device tag or attribute
 * the network server keeps (`tags.building`). Kept beside `unwrap`, which fills them; `fcgw
 * check-config` refuses a template naming anything else and lists these.
 *
 * Sources: The Things Stack "Data Formats" (uplink: end_device_ids.{device_id, application_ids.
 * application_id, dev_eui, join_eui, dev_addr}, received_at, uplink_message.{f_port, f_cnt,
 * frm_payload, decoded_payload}, attributes since v3.34), https://www.thethingsindustries.com/docs/
 * integrations/data-formats/; ChirpStack v4 integration API, UplinkEvent (deduplicationId, time,
 * deviceInfo, devAddr, fCnt, fPort, data, object) and DeviceInfo (tenantId, tenantName,
 * applicationId, applicationName, deviceProfileId, deviceProfileName, deviceName, devEui, tags),
 * JSON in lowerCamelCase: https://docs.rs/chirpstack_api/4.7.0/chirpstack_api/integration/struct.UplinkEvent.html
 * and https://docs.rs/chirpstack_api/4.5.1/chirpstack_api/integration/struct.DeviceInfo.html.
 */
export const ENVELOPE_FIELD_DOCS: Readonly<Record<EnvelopeKind, Readonly<Record<string, string>>>> = {
  json: {},
  chirpstack: {
    devEui: 'deviceInfo.devEui, 16 hex digits, lower case',
    deviceName: 'deviceInfo.deviceName, as named in ChirpStack',
    applicationId: 'deviceInfo.applicationId (UUID)',
    applicationName: 'deviceInfo.applicationName',
    tenantId: 'deviceInfo.tenantId (UUID)',
    tenantName: 'deviceInfo.tenantName',
    deviceProfileId: 'deviceInfo.deviceProfileId (UUID)',
    deviceProfileName: 'deviceInfo.deviceProfileName',
    devAddr: 'devAddr, the session address',
    fPort: 'fPort',
    fCnt: 'fCnt, the uplink frame counter',
    deduplicationId: 'deduplicationId (UUID of this uplink)',
    'tags.*': 'deviceInfo.tags.<name>, a device tag set in ChirpStack',
  },
  ttn: {
    device_id: 'end_device_ids.device_id, as named in The Things Stack',
    dev_eui: 'end_device_ids.dev_eui as sent (upper case hex)',
    join_eui: 'end_device_ids.join_eui (AppEUI before LoRaWAN 1.1)',
    dev_addr: 'end_device_ids.dev_addr, the session address',
    application_id: 'end_device_ids.application_ids.application_id',
    f_port: 'uplink_message.f_port (0 when TTS omits it)',
    f_cnt: 'uplink_message.f_cnt (0 when TTS omits it)',
    deviceId: 'the same as device_id',
    devEui: 'dev_eui in lower case (as ChirpStack spells it)',
    applicationId: 'the same as application_id',
    fPort: 'the same as f_port',
    fCnt: 'the same as f_cnt',
    'attributes.*': 'attributes.<name>, an end-device attribute (forwarded since TTS 3.34)',
    'tags.*': 'the same as attributes.*',
  },
};

/** The names of `ENVELOPE_FIELD_DOCS`, per envelope. */
export const ENVELOPE_FIELDS: Readonly<Record<EnvelopeKind, readonly string[]>> = {
  json: Object.keys(ENVELOPE_FIELD_DOCS.json),
  chirpstack: Object.keys(ENVELOPE_FIELD_DOCS.chirpstack),
  ttn: Object.keys(ENVELOPE_FIELD_DOCS.ttn),
};

export function unwrap(kind: EnvelopeKind, msg: unknown, codec: Codec | undefined, preferDecoded: boolean): UnwrapResult {
  if (!isObject(msg)) return fail('wrong_type', 'the message is not a JSON object');
  switch (kind) {
    case 'json':
      return { ok: true, value: { data: msg, meta: {}, decodedHere: false } };
    case 'chirpstack': {
      const info = isObject(msg['deviceInfo']) ? msg['deviceInfo'] : undefined;
      if (!info) return fail('missing_field', 'ChirpStack uplink without deviceInfo');
      const meta: Record<string, unknown> = {
        devEui: info['devEui'],
        deviceName: info['deviceName'],
        applicationId: info['applicationId'],
        applicationName: info['applicationName'],
        tenantId: info['tenantId'],
        tenantName: info['tenantName'],
        deviceProfileId: info['deviceProfileId'],
        deviceProfileName: info['deviceProfileName'],
        devAddr: msg['devAddr'],
        tags: isObject(info['tags']) ? info['tags'] : {},
        fPort: msg['fPort'],
        fCnt: msg['fCnt'],
        deduplicationId: msg['deduplicationId'],
      };
      const ts = isoMs(msg['time']);
      const id = identity(msg['deduplicationId'], msg['devAddr'] ?? info['devEui'], msg['fCnt'], msg['fPort'], msg['data'] ?? msg['object']);
      if (preferDecoded && isObject(msg['object'])) return ok(msg['object'], ts, meta, false, id);
      const data = runCodec(codec, msg['data'], msg['fPort']);
      return data.ok ? ok(data.data, ts, meta, true, id) : data;
    }
    case 'ttn': {
      const ids = isObject(msg['end_device_ids']) ? msg['end_device_ids'] : undefined;
      const up = isObject(msg['uplink_message']) ? msg['uplink_message'] : undefined;
      if (!ids || !up) return fail('missing_field', 'TTS uplink without end_device_ids or uplink_message');
      const app = isObject(ids['application_ids']) ? ids['application_ids'] : {};
      // TTS omits zero fields: an absent f_port/f_cnt is 0.
      const fPort = up['f_port'] ?? 0;
      const fCnt = up['f_cnt'] ?? 0;
      const attributes = isObject(msg['attributes']) ? msg['attributes'] : {};
      const meta: Record<string, unknown> = {
        device_id: ids['device_id'],
        dev_eui: ids['dev_eui'],
        join_eui: ids['join_eui'],
        dev_addr: ids['dev_addr'],
        application_id: app['application_id'],
        f_port: fPort,
        f_cnt: fCnt,
        attributes,
        deviceId: ids['device_id'],
        devEui: typeof ids['dev_eui'] === 'string' ? ids['dev_eui'].toLowerCase() : undefined,
        applicationId: app['application_id'],
        fPort,
        fCnt,
        tags: attributes,
      };
      const ts = isoMs(msg['received_at']) ?? isoMs(up['received_at']);
      const id = identity(undefined, ids['dev_addr'] ?? ids['dev_eui'], fCnt, fPort, up['frm_payload'] ?? up['decoded_payload']);
      if (preferDecoded && isObject(up['decoded_payload'])) return ok(up['decoded_payload'], ts, meta, false, id);
      const data = runCodec(codec, up['frm_payload'], up['f_port'] ?? 0);
      return data.ok ? ok(data.data, ts, meta, true, id) : data;
    }
  }
}

function ok(data: unknown, ts: number | undefined, meta: Record<string, unknown>, decodedHere: boolean, identity: string[]): UnwrapResult {
  const value: Unwrapped = ts === undefined ? { data, meta, decodedHere } : { data, ts, meta, decodedHere };
  if (identity.length) value.identity = identity;
  return { ok: true, value };
}

const scalarText = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/** An uplink's identities (see `Unwrapped.identity`); none when the envelope lacks a frame counter. */
function identity(dedupId: unknown, addr: unknown, fCnt: unknown, fPort: unknown, bytes: unknown): string[] {
  const out: string[] = [];
  const d = scalarText(dedupId);
  if (d) out.push(`dedup:${d}`);
  const a = scalarText(addr);
  const c = scalarText(fCnt);
  if (a !== undefined && c !== undefined) out.push(`fcnt:${a}/${c}/${scalarText(fPort) ?? ''}/${typeof bytes === 'string' ? bytes : JSON.stringify(bytes ?? null)}`);
  return out;
}
