import type { DeviceConfig, DiscoverConfig } from '../../gateway/model/site-config.js';
import type { BoundDevice } from '../core/driver.js';
import type { Loaded, Profile } from '../profiles/schema.js';
import { compileDecoder, ProfileError, type Decoder } from './decode.js';
import type { EnvelopeKind } from './envelope.js';
import { compilePath, getPath, type CompiledPath } from './json-path.js';
import type { MqttProfile } from './profile-schema.js';
import { asMqttProfile, codecOf, deviceRuntime, ruleEnvelope, type DeviceRuntime } from './runtime.js';
import { compileTopic, expandTemplate, toSlug, type TopicTemplate } from './topic.js';
import type { Codec } from './codecs/index.js';

/**
 * Which device a topic belongs to: configured devices first (exact topics through a Map, then
 * wildcard templates), then discovery rules. Built once in `create`; discovered devices are
 * added as they appear, bounded by each rule's max_devices.
 */

export interface DiscoveryRule {
  rule: DiscoverConfig;
  template: TopicTemplate;
  source: Loaded<MqttProfile>;
  profile: MqttProfile;
  decoder: Decoder;
  envelope: EnvelopeKind;
  codec: Codec | undefined;
  created: number;
  /** The id template uses only named topic levels (so a topic always means the same device). */
  topicOnlyId: boolean;
}

export type Route =
  | { kind: 'device'; device: DeviceRuntime; vars: Record<string, string> }
  | { kind: 'rule'; rule: DiscoveryRule; vars: Record<string, string> };

const pathCache = new Map<string, CompiledPath>();
const MAX_LEARNED = 200_000;

export class Router {
  readonly devices = new Map<string, DeviceRuntime>();
  private readonly exact = new Map<string, DeviceRuntime>();
  private readonly wild: { template: TopicTemplate; device: DeviceRuntime }[] = [];
  readonly rules: DiscoveryRule[] = [];
  /** Subscription filters, without filters another one already covers (overlaps deliver twice). */
  readonly filters: string[];
  readonly topics = new Map<string, string>();
  /** Each device's topic levels and options by name (a command topic is built from them). */
  readonly varsOf = new Map<string, Record<string, string>>();

  constructor(devices: readonly BoundDevice<Loaded<MqttProfile>>[], discover: readonly DiscoverConfig[], profiles: ReadonlyMap<string, Profile>) {
    const problems: string[] = [];
    for (const d of devices) {
      if (!d.config.enabled) continue;
      try {
        const rt = deviceRuntime(d.config, d.profile, false);
        const source = d.config.topic ?? rt.profile.topic;
        if (!source) throw new ProfileError(`no topic: set devices[].topic or the profile's topic`);
        const fill: Record<string, string> = { device: d.config.id };
        for (const [k, v] of Object.entries(d.config.options)) fill[k] = String(v);
        const template = compileTopic(source, fill);
        this.varsOf.set(rt.id, fill);
        this.devices.set(rt.id, rt);
        this.topics.set(rt.id, template.filter);
        if (template.exact) {
          const other = this.exact.get(template.filter);
          if (other) throw new ProfileError(`topic ${template.filter} is also device ${other.id}'s`);
          this.exact.set(template.filter, rt);
        } else this.wild.push({ template, device: rt });
      } catch (err) {
        problems.push(`device ${d.config.id}: ${(err as Error).message}`);
      }
    }
    discover.forEach((rule, i) => {
      try {
        const source = profiles.get(rule.profile);
        if (!source) throw new ProfileError(`no profile "${rule.profile}"`);
        const profile = asMqttProfile(source);
        const template = compileTopic(rule.topic ?? '');
        this.rules.push({
          rule,
          template,
          source: profile,
          profile,
          decoder: compileDecoder(profile, rule.class),
          envelope: ruleEnvelope(rule, profile),
          codec: codecOf(profile),
          created: 0,
          topicOnlyId: [...rule.id.matchAll(/\{([^}]+)\}/g)].every((m) => template.names.includes(m[1] as string)),
        });
      } catch (err) {
        problems.push(`discover[${i}]: ${(err as Error).message}`);
      }
    });
    if (problems.length) throw new ProfileError(problems.join('\n'));
    const all = [...new Set([...this.exact.keys(), ...this.wild.map((w) => w.template.filter), ...this.rules.map((r) => r.template.filter)])];
    this.filters = all.filter((f) => !all.some((g) => g !== f && covers(g, f)));
  }

  /** Topics of discovered devices whose id comes from the topic alone: the next message skips the rule. */
  private readonly learned = new Map<string, Route>();

  route(topic: string): Route | undefined {
    const d = this.exact.get(topic);
    if (d) return { kind: 'device', device: d, vars: {} };
    const known = this.learned.get(topic);
    if (known) return known;
    for (const w of this.wild) {
      const vars = w.template.match(topic);
      if (vars) return { kind: 'device', device: w.device, vars };
    }
    for (const r of this.rules) {
      const vars = r.template.match(topic);
      if (vars) return { kind: 'rule', rule: r, vars };
    }
    return undefined;
  }

  /** The device a discovery rule makes of a message (existing, new, or why not). */
  discover(
    topic: string,
    r: DiscoveryRule,
    vars: Record<string, string>,
    message: unknown,
    meta: Record<string, unknown>,
    connection: string,
    add: ((device: DeviceConfig, profile: Profile) => boolean) | undefined,
  ): { device: DeviceRuntime } | { reason: string; detail: string } {
    const lookup = (name: string): unknown => {
      if (vars[name] !== undefined) return vars[name];
      let p = pathCache.get(name);
      if (!p) pathCache.set(name, (p = compilePath(name)));
      return getPath(meta, p) ?? getPath(message, p);
    };
    const raw = expandTemplate(r.rule.id, lookup);
    if (raw === undefined) return { reason: 'missing_field', detail: `cannot build a device id from "${r.rule.id}"` };
    const id = toSlug(raw);
    if (!id) return { reason: 'bad_device_id', detail: `"${r.rule.id}" gives an empty device id` };
    const known = this.devices.get(id);
    if (known) {
      this.learn(topic, r, known, vars);
      return { device: known };
    }
    if (r.created >= r.rule.max_devices)
      return { reason: 'discovery_limit', detail: `rule ${r.rule.topic} already made ${r.rule.max_devices} devices` };
    const tags: Record<string, string> = {};
    for (const [k, t] of Object.entries(r.rule.tags)) {
      const v = expandTemplate(t, lookup);
      if (v !== undefined) tags[k] = v;
    }
    const config: DeviceConfig = { id, class: r.rule.class, connection, profile: r.rule.profile, tags, options: {}, enabled: true };
    if (add && !add(config, r.source)) return { reason: 'discovery_refused', detail: `the gateway refused device ${id}` };
    const device: DeviceRuntime = { ...deviceRuntime(config, r.source, true, r.envelope), decoder: r.decoder };
    r.created++;
    this.devices.set(id, device);
    this.varsOf.set(id, { ...vars, device: id });
    this.learn(topic, r, device, vars);
    return { device };
  }

  private learn(topic: string, r: DiscoveryRule, device: DeviceRuntime, vars: Record<string, string>): void {
    // A device found again after a restart of the driver (known from an earlier message) still needs its levels.
    if (!this.varsOf.has(device.id)) this.varsOf.set(device.id, { ...vars, device: device.id });
    if (!r.topicOnlyId || this.learned.size >= MAX_LEARNED) return;
    this.learned.set(topic, { kind: 'device', device, vars });
  }
}

/** Does subscription filter `g` receive everything `f` does? */
export function covers(g: string, f: string): boolean {
  const a = g.split('/');
  const b = f.split('/');
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (x === '#') return true;
    const y = b[i];
    if (y === undefined || y === '#') return false;
    if (x !== '+' && x !== y) return false;
  }
  return a.length === b.length;
}
