import { mqttCommandProblems } from './commands.js';
import { CATALOG } from '../../gateway/model/catalog.js';
import { didYouMean } from '../../gateway/model/suggest.js';
import type { DriverCheckInput, DriverProblem } from '../core/driver.js';
import { classProblems, mappingProblems } from '../core/profile-checks.js';
import type { Loaded } from '../profiles/schema.js';
import { getCodec, CODECS } from './codecs/index.js';
import type { MqttConnection } from './connection-schema.js';
import { compileDecoder } from './decode.js';
import { ENVELOPE_FIELDS } from './envelope.js';
import type { MqttProfile } from './profile-schema.js';
import { ruleEnvelope } from './runtime.js';
import { compileTopic } from './topic.js';

/**
 * What the MQTT driver contributes to the one validation (gateway/site): checks of a profile
 * beyond its schema, and checks of its connections, devices and discovery rules (the embedded
 * broker exists, topics compile, id and tag templates name only fields a message can fill).
 */

/** Catalog metrics, units and events of every reading and event, for every class of the profile; the codec exists. */
export function checkMqttProfile(p: Loaded<MqttProfile>): DriverProblem[] {
  const out = [...classProblems(p.classes), ...mqttCommandProblems(p)];
  p.readings.forEach((r, i) => out.push(...mappingProblems(p.classes, { metric: r.metric, unit: r.unit, map: r.map }, ['readings', i])));
  p.events.forEach((e, i) => {
    for (const cls of p.classes) {
      const def = CATALOG[cls]?.events[e.type];
      if (!CATALOG[cls]) continue;
      if (!def) {
        out.push({ path: ['events', i, 'type'], message: `"${e.type}" is not an event of ${cls}${didYouMean(e.type, Object.keys(CATALOG[cls]?.events ?? {}))}` });
        continue;
      }
      for (const name of Object.keys(e.attributes))
        if (!def.attributes[name]) out.push({ path: ['events', i, 'attributes', name], message: `"${name}" is not an attribute of ${e.type}${didYouMean(name, Object.keys(def.attributes))}` });
    }
  });
  if (p.codec !== undefined && !getCodec(p.codec)) out.push({ path: ['codec'], message: `unknown codec "${p.codec}"${didYouMean(p.codec, CODECS.keys())}` });
  if (p.topic !== undefined) {
    try {
      compileTopic(p.topic);
    } catch (err) {
      out.push({ path: ['topic'], message: (err as Error).message });
    }
  }
  // What is left (a path that does not compile, a required attribute missing) the decoder says.
  if (out.length === 0) {
    for (const cls of p.classes) {
      if (!CATALOG[cls]) continue;
      try {
        compileDecoder(p, cls);
      } catch (err) {
        out.push({ path: [], message: (err as Error).message });
        break;
      }
    }
  }
  return unique(out);
}

function unique(list: DriverProblem[]): DriverProblem[] {
  const seen = new Set<string>();
  return list.filter((p) => !seen.has(`${p.path.join('.')}\u0000${p.message}`) && !!seen.add(`${p.path.join('.')}\u0000${p.message}`));
}

/** Fields of a message a template may name: topic levels, envelope fields, the paths the profile reads. */
export function messageFields(topicNames: readonly string[], envelope: keyof typeof ENVELOPE_FIELDS, p: MqttProfile): string[] {
  const paths = new Set<string>();
  const add = (path: string | undefined) => {
    if (path && !path.startsWith('$')) paths.add(path);
  };
  const stamps = p.timestamp === undefined ? [] : Array.isArray(p.timestamp) ? p.timestamp : [p.timestamp];
  for (const t of stamps) add(t.path);
  for (const r of p.readings) {
    add(r.path);
    add(r.timestamp?.path);
  }
  for (const e of p.events) for (const a of Object.values(e.attributes)) if ('path' in a) add(a.path);
  return [...new Set([...topicNames, ...ENVELOPE_FIELDS[envelope], ...paths])];
}

function fits(name: string, fields: readonly string[]): boolean {
  return fields.some((f) => f === name || (f.endsWith('.*') && name.startsWith(f.slice(0, -1))));
}

/** Across MQTT connections, devices and discovery rules (paths from the config root). */
export function checkMqtt(input: DriverCheckInput<MqttConnection, Loaded<MqttProfile>>): DriverProblem[] {
  const out: DriverProblem[] = [];
  for (const { index, connection: c } of input.connections) {
    if (c.url === 'embedded' && !input.site.embeddedBroker) out.push({ path: ['connections', index, 'url'], message: 'url "embedded" needs broker.embedded in the config' });
  }
  for (const { index, config: d, profile } of input.devices) {
    const topic = d.topic ?? profile.topic;
    if (!topic) {
      out.push({ path: ['devices', index, 'topic'], message: `no topic: set it here or in profile ${profile.id}` });
      continue;
    }
    try {
      compileTopic(topic);
    } catch (err) {
      out.push({ path: ['devices', index, d.topic ? 'topic' : 'profile'], message: (err as Error).message });
    }
  }
  for (const { index, rule, profile } of input.discover) {
    let names: readonly string[];
    if (rule.topic === undefined) {
      out.push({ path: ['discover', index, 'topic'], message: 'an MQTT discovery rule needs a topic filter, e.g. "sensors/{devEui}/up"' });
      continue;
    }
    try {
      names = compileTopic(rule.topic).names;
    } catch (err) {
      out.push({ path: ['discover', index, 'topic'], message: (err as Error).message });
      continue;
    }
    const fields = messageFields(names, ruleEnvelope(rule, profile), profile);
    const templates: [(string | number)[], string][] = [[['discover', index, 'id'], rule.id], ...Object.entries(rule.tags).map(([k, t]): [(string | number)[], string] => [['discover', index, 'tags', k], t])];
    for (const [path, template] of templates) {
      for (const m of template.matchAll(/\{([^}]*)\}/g)) {
        const name = m[1] as string;
        if (!fits(name, fields))
          out.push({ path, message: `{${name}} is not a field this rule's messages carry${didYouMean(name, fields.filter((f) => !f.endsWith('*')))} (available: ${fields.join(', ') || 'none'})` });
      }
    }
  }
  return out;
}
