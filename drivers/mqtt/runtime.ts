import { EARLIEST_TS, MAX_AHEAD_MS } from '../../gateway/model/commissioned.js';
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
  /** Newest accepted message time; older messages are late (kept unless the profile says `reject`). */
  lastTs: number;
  lastSeen?: number;
  /** Last few accepted payloads with a source time, to refuse exact re-sends. */
  recent: { ts: number; payload: Buffer }[];
  /** Identities of the last uplinks (LoRaWAN deduplicationId, frame counter with its bytes), oldest first. */
  uplinks: string[];
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
    uplinks: [],
  };
}

/** A discovery rule's envelope: the rule's own unless it is the default `json` and the profile says otherwise. */
export function ruleEnvelope(rule: DiscoverConfig, profile: MqttProfile): EnvelopeKind {
  return rule.envelope !== 'json' ? rule.envelope : profile.envelope;
}

const RECENT = 8;
/** A LoRaWAN device's uplinks remembered by identity: a replayed day is 24 hourly ones, a copy comes within minutes. */
const UPLINKS = 128;

export type Refusal = 'duplicate' | 'out_of_order' | 'bad_timestamp';

/**
 * Identity, ordering and clock checks for a message: the reason to refuse it, if any. A copy is
 * recognised by what it is (the same bytes at the same source time; the same LoRaWAN uplink by
 * its deduplicationId or frame counter, whichever network-server gateway relayed it), never by
 * being older than the newest: late data is kept unless the profile says `reject`.
 */
export function refusal(d: DeviceRuntime, ts: number, hasSourceTs: boolean, payload: Buffer, now: number, identity: readonly string[] = []): Refusal | undefined {
  // A wrong clock is said first: it is the louder problem, even on a copy.
  if (hasSourceTs && (ts > now + MAX_AHEAD_MS || ts < EARLIEST_TS)) return 'bad_timestamp';
  for (const id of identity) if (d.uplinks.includes(id)) return 'duplicate';
  if (!hasSourceTs) return undefined;
  for (const r of d.recent) if (r.ts === ts && r.payload.equals(payload)) return 'duplicate';
  if (d.profile.out_of_order === 'reject' && ts < d.lastTs - d.profile.reorder_window_s * 1000) return 'out_of_order';
  return undefined;
}

export interface Remembered {
  entry: { ts: number; payload: Buffer } | undefined;
  previousTs: number;
  identity: readonly string[];
}

/**
 * Record a message as it goes to the store, so that a copy arriving while it is still being
 * committed (the embedded broker hands over a socket's packets concurrently) is refused too.
 * If the commit fails, `forget` undoes it: otherwise the broker's resend would be refused.
 */
export function remember(d: DeviceRuntime, ts: number, hasSourceTs: boolean, payload: Buffer, now: number, identity: readonly string[] = []): Remembered {
  d.lastSeen = now;
  const previousTs = d.lastTs;
  for (const id of identity) d.uplinks.push(id);
  if (d.uplinks.length > UPLINKS) d.uplinks.splice(0, d.uplinks.length - UPLINKS);
  if (!hasSourceTs) return { entry: undefined, previousTs, identity };
  if (ts > d.lastTs) d.lastTs = ts;
  // A copy: the packet's buffer may be a slice of a larger socket read.
  const entry = { ts, payload: Buffer.from(payload) };
  d.recent.push(entry);
  if (d.recent.length > RECENT) d.recent.shift();
  return { entry, previousTs, identity };
}

export function forget(d: DeviceRuntime, r: Remembered): void {
  for (const id of r.identity) {
    const i = d.uplinks.lastIndexOf(id);
    if (i >= 0) d.uplinks.splice(i, 1);
  }
  if (!r.entry) return;
  const i = d.recent.indexOf(r.entry);
  if (i >= 0) d.recent.splice(i, 1);
  if (d.lastTs === r.entry.ts) d.lastTs = r.previousTs;
}
