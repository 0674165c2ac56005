/**
 * Topic templates with named wildcards: `application/{app}/device/{devEui}/event/up`.
 * `{name}` matches one level and captures it, `+` one level, `#` (last) the rest, `{name#}`
 * the rest captured. Compiled once; matching is a split and a walk, no regex per message.
 */

type Level = { kind: 'literal'; text: string } | { kind: 'one'; name?: string } | { kind: 'rest'; name?: string };

export interface TopicTemplate {
  readonly source: string;
  /** The MQTT subscription filter (named wildcards become `+` / `#`). */
  readonly filter: string;
  /** True when the template has no wildcard at all (then lookups can use a Map). */
  readonly exact: boolean;
  /** Names captured, in order. */
  readonly names: readonly string[];
  match(topic: string): Record<string, string> | undefined;
}

export class TopicTemplateError extends Error {
  readonly code = 'MQTT_TOPIC_TEMPLATE';
}

export function compileTopic(source: string, fill: Record<string, string> = {}): TopicTemplate {
  if (!source) throw new TopicTemplateError('empty topic template');
  const parts = source.split('/');
  const levels: Level[] = parts.map((p, i) => {
    const last = i === parts.length - 1;
    if (p === '+') return { kind: 'one' };
    if (p === '#') {
      if (!last) throw new TopicTemplateError(`"${source}": # must be the last level`);
      return { kind: 'rest' };
    }
    const m = /^\{([A-Za-z_][A-Za-z0-9_.]*)(#)?\}$/.exec(p);
    if (m) {
      const name = m[1] as string;
      const given = fill[name];
      if (given !== undefined) return { kind: 'literal', text: given };
      if (m[2]) {
        if (!last) throw new TopicTemplateError(`"${source}": {${name}#} must be the last level`);
        return { kind: 'rest', name };
      }
      return { kind: 'one', name };
    }
    if (/[{}+#]/.test(p)) throw new TopicTemplateError(`"${source}": bad level "${p}" (use {name}, + or #)`);
    return { kind: 'literal', text: p };
  });
  const filter = levels.map((l) => (l.kind === 'literal' ? l.text : l.kind === 'one' ? '+' : '#')).join('/');
  const names = levels.flatMap((l) => (l.kind !== 'literal' && l.name ? [l.name] : []));
  const exact = levels.every((l) => l.kind === 'literal');
  return {
    source,
    filter,
    exact,
    names,
    match(topic: string) {
      const t = topic.split('/');
      const out: Record<string, string> = {};
      for (let i = 0; i < levels.length; i++) {
        const l = levels[i] as Level;
        if (l.kind === 'rest') {
          if (l.name) out[l.name] = t.slice(i).join('/');
          return out;
        }
        const seg = t[i];
        if (seg === undefined) return undefined;
        if (l.kind === 'literal') {
          if (seg !== l.text) return undefined;
        } else {
          // MQTT: a wildcard never matches a topic starting with $ at the first level.
          if (i === 0 && seg.startsWith('$')) return undefined;
          if (l.name) out[l.name] = seg;
        }
      }
      return t.length === levels.length ? out : undefined;
    },
  };
}

/** Expand `{name}` (and `{a.b}`) placeholders of an id or tag template; undefined when one is missing. */
export function expandTemplate(template: string, lookup: (name: string) => unknown): string | undefined {
  let missing = false;
  const out = template.replace(/\{([A-Za-z_][A-Za-z0-9_.[\]]*)\}/g, (_, name: string) => {
    const v = lookup(name);
    if (v === undefined || v === null || v === '' || typeof v === 'object') {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? undefined : out;
}

/** Make a device id out of free text: lower case, only [a-z0-9._-]. */
export function toSlug(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .slice(0, 64);
}
