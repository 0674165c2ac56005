/**
 * `extends:` in a profile: a user's profile written as the differences from another one (a
 * built-in, or one loaded before it). The merge works on the YAML as written, before the driver's
 * schema parses it, so the result is checked exactly like a profile written out in full. Pure.
 *
 * The rules (drivers/README.md, "Extending a profile"):
 * - mappings merge key by key, recursively; a key the child sets wins;
 * - a list whose entries all name a `metric` (Modbus and DL/T 645 `points`, MQTT `readings`,
 *   OPC UA `nodes`, the points of a SunSpec model) merges by entry: a child entry with the same
 *   `metric` (and the same `class`, when either names one) replaces the base's in place, a new one
 *   is appended, and `{ metric: x, remove: true }` drops the base's entry;
 * - every other list (`classes`, `ids`, `events`, SunSpec `models`…) is replaced whole;
 * - `null` removes a key of the base;
 * - `id`, `description` and `extends` itself are never inherited: the child's `id` names it, and
 *   a description it omits reads "<base description> (extended)".
 */

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** An entry of a list merged by metric: its key, or undefined when the list is not one. */
function entryKey(v: unknown): string | undefined {
  if (!isObj(v) || typeof v['metric'] !== 'string') return undefined;
  return `${v['metric']}\u0000${typeof v['class'] === 'string' ? v['class'] : ''}`;
}

function mergeList(base: unknown[], child: unknown[]): unknown[] {
  const keyed = child.length > 0 && base.length > 0 && [...base, ...child].every((e) => entryKey(e) !== undefined);
  if (!keyed) return child;
  const out = [...base];
  for (const e of child) {
    const k = entryKey(e) as string;
    const at = out.findIndex((b) => entryKey(b) === k);
    const remove = isObj(e) && e['remove'] === true;
    if (remove) {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = e;
    else out.push(e);
  }
  return out;
}

export function mergeProfile(base: unknown, child: unknown): unknown {
  if (Array.isArray(base) && Array.isArray(child)) return mergeList(base, child);
  if (!isObj(base) || !isObj(child)) return child;
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(child)) {
    if (v === null) delete out[k];
    else out[k] = k in base ? mergeProfile(base[k], v) : v;
  }
  return out;
}

/** The profile `child` (as written, with `extends:`) over its base (as written, already resolved). */
export function extendProfile(base: Obj, child: Obj): Obj {
  const { id: _baseId, extends: _baseExtends, description: baseDescription, ...inherited } = base;
  const { extends: _extends, ...own } = child;
  const merged = mergeProfile(inherited, own) as Obj;
  if (merged['description'] === undefined && typeof baseDescription === 'string') merged['description'] = `${baseDescription} (extended)`;
  return merged;
}
