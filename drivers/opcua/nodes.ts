import type { DeviceConfig } from '../../gateway/model/site-config.js';
import type { OpcuaProfile } from './profile-schema.js';

/**
 * What a device will read, planned without I/O: each profile node with its placeholders filled
 * from the device, its sampling parameters resolved, and where it is found (a node id, or a
 * browse path from the Objects folder). Pure, so `fcgw explain` and the tests see the same plan.
 */

export class OpcuaConfigError extends Error {
  constructor(
    readonly code: 'OPCUA_CONFIG_INVALID',
    message: string,
  ) {
    super(message);
  }
}

/** One browse path segment: a browse name and its namespace (an index, or the profile's namespace). */
export interface PathSegment {
  name: string;
  /** Explicit namespace index (`2:Name`), else undefined = the profile's namespace. */
  ns?: number;
}

export interface PlannedNode {
  device: string;
  metric: string;
  /** Node id as written (placeholders filled), when the profile gives one. */
  nodeId?: string;
  /** Browse path from the Objects folder, when the profile gives one. */
  path?: PathSegment[];
  namespace?: string;
  unit?: string;
  scale?: number;
  offset?: number;
  map?: Record<string, string | number | boolean>;
  samplingInterval: number;
  queueSize: number;
  trigger: 'status_value' | 'status_value_timestamp';
  publishingInterval: number;
  /** subscribe or poll, and the read period in poll mode. */
  mode: 'subscribe' | 'poll';
  pollMs: number;
}

/** Replace `{name}` by the device option `name` (`{device}` is the device id). */
export function fill(template: string, device: DeviceConfig): string {
  return template.replace(/\{([A-Za-z0-9_]+)\}/g, (all, key: string) => {
    if (key === 'device') return device.id;
    const v = device.options[key];
    if (v === undefined) throw new OpcuaConfigError('OPCUA_CONFIG_INVALID', `device ${device.id}: option "${key}" is needed by its profile (${template})`);
    return String(v);
  });
}

export function parsePath(text: string): PathSegment[] {
  return text
    .split('/')
    .filter((s) => s !== '')
    .map((s) => {
      const m = /^(\d+):(.+)$/.exec(s);
      return m ? { name: m[2] as string, ns: Number(m[1]) } : { name: s };
    });
}

export function formatPath(path: readonly PathSegment[]): string {
  return `Objects/${path.map((s) => (s.ns !== undefined ? `${s.ns}:${s.name}` : s.name)).join('/')}`;
}

/** The nodes of one device, in profile order. Throws OpcuaConfigError on a missing option. */
export function planDevice(device: DeviceConfig, profile: OpcuaProfile): PlannedNode[] {
  const d = profile.defaults;
  const optMode = device.options['mode'];
  const mode = optMode === 'poll' || optMode === 'subscribe' ? optMode : d.mode;
  const root = profile.root !== undefined ? parsePath(fill(profile.root, device)) : [];
  return profile.nodes
    .filter((n) => n.class === undefined || n.class === device.class)
    .map((n) => {
      const p: PlannedNode = {
        device: device.id,
        metric: n.metric,
        samplingInterval: n.sampling_interval ?? d.sampling_interval,
        queueSize: n.queue_size ?? d.queue_size,
        trigger: n.trigger ?? d.trigger,
        publishingInterval: d.publishing_interval,
        mode,
        pollMs: device.poll ?? d.poll,
      };
      if (n.node !== undefined) p.nodeId = fill(n.node, device);
      if (n.path !== undefined) p.path = [...root, ...parsePath(fill(n.path, device))];
      if (profile.namespace !== undefined) p.namespace = profile.namespace;
      if (n.unit !== undefined) p.unit = n.unit;
      if (n.scale !== undefined) p.scale = n.scale;
      if (n.offset !== undefined) p.offset = n.offset;
      if (n.map !== undefined) p.map = n.map;
      return p;
    });
}

/**
 * A node id with `nsu=<uri>;` rewritten to the server's `ns=<index>;` (NamespaceArray), or an
 * error message when the server does not know the namespace.
 */
export function resolveNodeId(text: string, namespaces: readonly string[]): { id: string } | { error: string } {
  const m = /^nsu=([^;]+);(.+)$/.exec(text);
  if (!m) return { id: text };
  const idx = namespaces.indexOf(m[1] as string);
  return idx < 0 ? { error: `namespace ${m[1]} is not on this server` } : { id: `ns=${idx};${m[2]}` };
}

export function describeNode(p: PlannedNode): string {
  const where = p.nodeId ?? (p.path ? formatPath(p.path) : '?');
  const how = p.mode === 'poll' ? `read every ${p.pollMs} ms` : `sampling ${p.samplingInterval} ms, queue ${p.queueSize}, publish ${p.publishingInterval} ms${p.trigger === 'status_value_timestamp' ? ', on new timestamps too' : ''}`;
  // A mapped node's values are names, not quantities: no unit to tell.
  const unit = p.map ? '' : p.unit ? `[${p.unit} unless EngineeringUnits say otherwise]` : '[unit from EngineeringUnits]';
  const extra = [unit, p.scale !== undefined ? `×${p.scale}` : '', p.map ? `map ${Object.entries(p.map).map(([k, v]) => `${k}→${String(v)}`).join(' ')}` : '']
    .filter(Boolean)
    .join(' ');
  return `  ${p.metric} ← ${where} (${how}) ${extra}`;
}
