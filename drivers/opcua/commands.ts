import type { ClientSession } from 'node-opcua-client';
import type { DeviceConfig } from '../../gateway/model/site-config.js';
import { commandProblems, commandsOf, findCommand, type CommandDef, type CommandResult, type CommandValue } from '../core/commands.js';
import type { DriverProblem } from '../core/driver.js';
import { fill, parsePath, resolveNodeId, type PathSegment } from './nodes.js';
import type { OpcuaWrite } from './command-schema.js';
import type { OpcuaLib } from './library.js';

/**
 * OPC UA commands: a value written to a variable node (the Value attribute, in the node's data
 * type), then read back from the node the device shows its state in (by default the one written).
 * A node is named as the profile's reading nodes are: a node id or a browse path below the
 * device's root, placeholders filled from the device. The read-back is decoded like a reading
 * (scale, map), so the gateway compares it with what was asked.
 */

const NUMERIC = new Set<string>(['SByte', 'Byte', 'Int16', 'UInt16', 'Int32', 'UInt32', 'Float', 'Double']);

export class OpcuaCommandError extends Error {
  constructor(
    readonly code: 'OPCUA_COMMAND_UNKNOWN' | 'OPCUA_COMMAND_VALUE' | 'OPCUA_OFFLINE' | 'OPCUA_NODE_NOT_FOUND' | 'OPCUA_WRITE_REFUSED' | 'OPCUA_READBACK_BAD',
    message: string,
  ) {
    super(message);
  }
}

/** The node value a command value becomes. */
export function rawOf(w: OpcuaWrite, value: CommandValue): string | number | boolean {
  if (w.map) {
    const key = Object.keys(w.map).find((k) => w.map?.[k] === value);
    if (key === undefined) throw new OpcuaCommandError('OPCUA_COMMAND_VALUE', `no node value for ${String(value)}`);
    return w.data_type === 'String' ? key : w.data_type === 'Boolean' ? key === 'true' : Number(key);
  }
  if (value === null) {
    if (w.raw === undefined) throw new OpcuaCommandError('OPCUA_COMMAND_VALUE', 'this command has no node value to write');
    return w.raw;
  }
  if (typeof value === 'number') return NUMERIC.has(w.data_type) && !['Float', 'Double'].includes(w.data_type) ? Math.round(value / w.scale) : value / w.scale;
  return value;
}

/** The read-back node value as the command value it means. */
export function decodeReadback(w: OpcuaWrite, def: CommandDef, raw: unknown): NonNullable<CommandResult['readBack']> | null {
  if (raw === null || raw === undefined) return null;
  if (w.map) return w.map[String(raw)] ?? null;
  if (def.value.type === 'boolean') return typeof raw === 'boolean' ? raw : Number(raw) !== 0;
  if (typeof raw === 'number') return raw * w.scale;
  return typeof raw === 'string' || typeof raw === 'boolean' ? raw : null;
}

/** The OPC UA part of a device's command, or an error naming what is missing. */
export function opcuaCommand(profile: object, cls: string, name: string): { def: CommandDef; write: OpcuaWrite } {
  const def = findCommand(profile, cls, name);
  if (!def) throw new OpcuaCommandError('OPCUA_COMMAND_UNKNOWN', `no command ${name} for a ${cls}`);
  return { def, write: def.write as OpcuaWrite };
}

/** A node of a command, planned for one device: a node id, or a browse path from the Objects folder. */
export interface CommandNode {
  nodeId?: string;
  path?: PathSegment[];
  namespace?: string;
}

export function planCommandNode(w: { node?: string | undefined; path?: string | undefined }, device: DeviceConfig, profile: { root?: string | undefined; namespace?: string | undefined }): CommandNode {
  const out: CommandNode = {};
  if (w.node !== undefined) out.nodeId = fill(w.node, device);
  if (w.path !== undefined) out.path = [...(profile.root !== undefined ? parsePath(fill(profile.root, device)) : []), ...parsePath(fill(w.path, device))];
  if (profile.namespace !== undefined) out.namespace = profile.namespace;
  return out;
}

/** The node id on this server (namespace indexes differ between servers), or OPCUA_NODE_NOT_FOUND. */
export async function locate(ua: OpcuaLib, session: ClientSession, namespaces: readonly string[], n: CommandNode): Promise<string> {
  if (n.nodeId !== undefined) {
    const r = resolveNodeId(n.nodeId, namespaces);
    if ('error' in r) throw new OpcuaCommandError('OPCUA_NODE_NOT_FOUND', r.error);
    return r.id;
  }
  const ns = n.namespace !== undefined ? namespaces.indexOf(n.namespace) : 0;
  if (ns < 0) throw new OpcuaCommandError('OPCUA_NODE_NOT_FOUND', `namespace ${n.namespace} is not on this server`);
  const elements = (n.path ?? []).map((s) => ({
    referenceTypeId: ua.resolveNodeId('HierarchicalReferences'),
    isInverse: false,
    includeSubtypes: true,
    targetName: { namespaceIndex: s.ns ?? ns, name: s.name },
  }));
  const r = await session.translateBrowsePath({ startingNode: ua.resolveNodeId('ObjectsFolder'), relativePath: { elements } });
  const target = r.targets?.[0]?.targetId;
  if (!r.statusCode.isGood() || !target) throw new OpcuaCommandError('OPCUA_NODE_NOT_FOUND', `${(n.path ?? []).map((s) => s.name).join('/')}: ${r.statusCode.name}`);
  return target.toString();
}

/** Write the command's node, then read the state back; a refused write or a bad read-back is a coded error. */
export async function runCommand(ua: OpcuaLib, session: ClientSession, namespaces: readonly string[], a: { def: CommandDef; write: OpcuaWrite; device: DeviceConfig; profile: { root?: string; namespace?: string }; value: CommandValue }): Promise<CommandResult> {
  const w = a.write;
  const nodeId = await locate(ua, session, namespaces, planCommandNode(w, a.device, a.profile));
  const value = new ua.Variant({ dataType: ua.DataType[w.data_type], value: rawOf(w, a.value) });
  const sc = await session.write({ nodeId: ua.resolveNodeId(nodeId), attributeId: ua.AttributeIds.Value, value: { value } });
  if (!sc.isGood()) throw new OpcuaCommandError('OPCUA_WRITE_REFUSED', `the server refused the write of ${nodeId}: ${sc.name}`);
  const rbId = w.readback ? await locate(ua, session, namespaces, planCommandNode(w.readback, a.device, a.profile)) : nodeId;
  // maxAge 0: the device's current value, not a cached one.
  const dv = await session.read({ nodeId: ua.resolveNodeId(rbId), attributeId: ua.AttributeIds.Value }, 0);
  if (!dv.statusCode.isGood()) throw new OpcuaCommandError('OPCUA_READBACK_BAD', `the read-back of ${rbId} is ${dv.statusCode.name}`);
  return { readBack: decodeReadback(w, a.def, dv.value.value as unknown) };
}

/** Checks of an OPC UA profile's commands beyond their schema. */
export function opcuaCommandProblems(profile: object & { classes: readonly string[]; root?: string | undefined }): DriverProblem[] {
  const out: DriverProblem[] = commandProblems(profile);
  commandsOf(profile).forEach((c, i) => {
    const w = c.write as OpcuaWrite;
    const at = (k: string, message: string) => out.push({ path: ['commands', i, 'write', k], message });
    if (c.value.type === 'enum' && !w.map) at('map', 'an enum command needs a map from node values to its values');
    if (w.map && c.value.type === 'enum') for (const v of c.value.values) if (!Object.values(w.map).includes(v)) at('map', `no node value for ${v}`);
    if (c.value.type === 'none' && w.raw === undefined) at('raw', 'a command without a value needs the node value it writes');
    if (c.value.type === 'none' && w.readback === undefined) at('readback', 'a trigger needs a node that shows what it did (readback)');
    if (c.value.type === 'number' && !NUMERIC.has(w.data_type)) at('data_type', `a number command writes a numeric node, not ${w.data_type}`);
    if ((w.path !== undefined || w.readback?.path !== undefined) && profile.root === undefined) at('path', 'a command with a `path` needs a profile `root`');
  });
  return out;
}
