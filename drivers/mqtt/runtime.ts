import type { DeviceConfig, DiscoverConfig } from '../../gateway/model/site-config.js';
import type { Loaded, Profile } from '../profiles/schema.js';
import { getCodec, type Codec } from './codecs/index.js';
import { compileDecoder, ProfileError, type Decoder } from './decode.js';
import type { EnvelopeKind } from './envelope.js';
import type { MqttProfile } from './profile-schema.js';

/** A device as the MQTT driver sees it at run time: its compiled decoder and ordering state. */
export interface DeviceRuntime {
  id: string;
  cls: string;
  profile: MqttProfile;
  /** The profile as loaded (for ctx.addDevice). */
  source: Loaded<MqttProfile>;
  decoder: Decoder;
  envelope: EnvelopeKind;
  codec: Codec | undefined;
  discovered: boolean;
  /** Newest accepted message time; older messages are out of order. */
  lastTs: number;
  lastSeen?: number;
  /** Last few accepted payloads with a source time, to refuse exact re-sends. */
  recent: { ts: number; payload: Buffer }[];
}

/**
 * A discovery rule's profile from the registry of every loaded profile. The loader parsed each
 * with its own driver's schema, and the site checked the rule names an mqtt profile.
 */
export function asMqttProfile(p: Profile): Loaded<MqttProfile> {
  if (p.protocol !== 'mqtt') throw new ProfileError(`profile ${p.id} is a ${p.protocol} profile, not an mqtt one`);
  return p as Loaded<MqttProfile>;
}

export function codecOf(profile: MqttProfile): Codec | undefined {
  if (profile.codec === undefined) return undefined;
  const c = getCodec(profile.codec);
  if (!c) throw new ProfileError(`profile ${profile.id}: unknown codec "${profile.codec}"`);
  return c;
}

export function deviceRuntime(config: Pick<DeviceConfig, 'id' | 'class'>, source: Loaded<MqttProfile>, discovered: boolean, envelope?: EnvelopeKind): DeviceRuntime {
  const profile = source;
  return {
    id: config.id,
    cls: config.class,
    profile,
    source,
    decoder: compileDecoder(profile, config.class),
    envelope: envelope ?? profile.envelope,
    codec: codecOf(profile),
    discovered,
    lastTs: -Infinity,
    recent: [],
  };
}

/** A discovery rule's envelope: the rule's own unless it is the default `json` and the profile says otherwise. */
export function ruleEnvelope(rule: DiscoverConfig, profile: MqttProfile): EnvelopeKind {
  return rule.envelope !== 'json' ? rule.envelope : profile.envelope;
}

const RECENT = 8;

/** Ordering and duplicate checks for a message with a source timestamp: the reason to refuse it, if any. */
export function refusal(d: DeviceRuntime, ts: number, hasSourceTs: boolean, payload: Buffer): 'duplicate' | 'out_of_order' | undefined {
  if (!hasSourceTs) return undefined;
  for (const r of d.recent) if (r.ts === ts && r.payload.equals(payload)) return 'duplicate';
  if (ts < d.lastTs - d.profile.reorder_window_s * 1000 && d.profile.out_of_order === 'reject') return 'out_of_order';
  return undefined;
}

export interface Remembered {
  entry: { ts: number; payload: Buffer } | undefined;
  previousTs: number;
}

/**
 * Record a message as it goes to the store, so that a copy arriving while it is still being
 * committed (the embedded broker hands over a socket's packets concurrently) is refused too.
 * If the commit fails, `forget` undoes it: otherwise the broker's resend would be refused.
 */
export function remember(d: DeviceRuntime, ts: number, hasSourceTs: boolean, payload: Buffer, now: number): Remembered {
  d.lastSeen = now;
  const previousTs = d.lastTs;
  if (!hasSourceTs) return { entry: undefined, previousTs };
  if (ts > d.lastTs) d.lastTs = ts;
  // A copy: the packet's buffer may be a slice of a larger socket read.
  const entry = { ts, payload: Buffer.from(payload) };
  d.recent.push(entry);
  if (d.recent.length > RECENT) d.recent.shift();
  return { entry, previousTs };
}

export function forget(d: DeviceRuntime, r: Remembered): void {
  if (!r.entry) return;
  const i = d.recent.indexOf(r.entry);
  if (i >= 0) d.recent.splice(i, 1);
  if (d.lastTs === r.entry.ts) d.lastTs = r.previousTs;
}
