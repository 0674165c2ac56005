import type { Codec } from './codecs/index.js';
import type { MessageInput } from './decode.js';
import { parseJson, unwrap, type EnvelopeKind, type Problem, type Unwrapped } from './envelope.js';
import type { MqttProfile } from './profile-schema.js';

/** What a message is read with: a configured device or a discovery rule. */
export interface Reader {
  profile: MqttProfile;
  envelope: EnvelopeKind;
  codec: Codec | undefined;
}

export type Prepared = { ok: true; message: unknown; unwrapped: Unwrapped } | { ok: false; problem: Problem };

/** Size check, JSON parse and envelope unwrap: everything before the device is known. Pure. */
export function prepare(reader: Reader, payload: Buffer): Prepared {
  if (payload.length > reader.profile.max_payload)
    return { ok: false, problem: { reason: 'oversize', detail: `${payload.length} bytes > max_payload ${reader.profile.max_payload}` } };
  const parsed = parseJson(payload);
  if (!parsed.ok) return parsed;
  const un = unwrap(reader.envelope, parsed.value, reader.codec, reader.profile.prefer_decoded);
  if (!un.ok) return un;
  return { ok: true, message: parsed.value, unwrapped: un.value };
}

export function decodeInput(un: Unwrapped, topicVars: Record<string, string>, receivedAt: number): MessageInput {
  return { data: un.data, meta: un.meta, topicVars, envelopeTs: un.ts, receivedAt };
}
