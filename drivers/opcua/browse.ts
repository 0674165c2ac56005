import type { ClientSession, ReferenceDescription } from 'node-opcua-client';
import { redactSecrets } from '../../gateway/model/redact.js';
import { clientCertificateManager } from './certificates.js';
import { parsePath } from './nodes.js';
import { createClient, identityOf, type OpcuaConnection } from './session.js';
import { unitFromEu } from './units.js';
import { loadOpcua, type OpcuaLib } from './library.js';

/**
 * `fcgw explain --browse`: walk a server's address space from a folder and print what a profile
 * needs — browse paths, node ids, data types, EngineeringUnits and current values — ending with
 * profile lines to copy (`- { metric: ?, path: … }`).
 */

export interface BrowseOptions {
  connection: OpcuaConnection;
  dataDir: string;
  /** Browse path from the Objects folder (`EnergyStation/HP1`), or a node id; default Objects. */
  root?: string;
  namespace?: string;
  depth?: number;
  /** Stop after this many nodes (a big server has hundreds of thousands). */
  limit?: number;
}

interface Found {
  path: string;
  id: string;
  cls: string;
  dataType?: string;
  unit?: string;
  value?: string;
}

export async function browseServer(o: BrowseOptions): Promise<string[]> {
  const ua = loadOpcua();
  const c = o.connection;
  const client = createClient(ua, c, await clientCertificateManager(ua, o.dataDir, c.trusted_certificates), {
    transportTimeout: c.timeout,
    connectionStrategy: { maxRetry: 1, initialDelay: 200, maxDelay: 1000 },
  });
  await client.connect(c.endpoint);
  try {
    const session = await client.createSession(identityOf(ua, c));
    try {
      const namespaces = await session.readNamespaceArray();
      const start = await findRoot(ua, session, o.root, o.namespace !== undefined ? namespaces.indexOf(o.namespace) : -1);
      const found: Found[] = [];
      await walk(ua, session, start, '', o.depth ?? 4, o.limit ?? 2000, found);
      await describeVariables(ua, session, found);
      const lines = [`${redactSecrets(c.endpoint)} from ${o.root ?? 'Objects'}: ${found.length} nodes (namespaces: ${namespaces.map((u, i) => `${i}=${u}`).join(', ')})`];
      for (const f of found) lines.push(`  ${f.path}  ${f.cls} ${f.id}${f.dataType ? ` ${f.dataType}` : ''}${f.unit ? ` [${f.unit}]` : ''}${f.value !== undefined ? ` = ${f.value}` : ''}`);
      const vars = found.filter((f) => f.cls === 'Variable' && !f.path.endsWith('EngineeringUnits') && !f.path.endsWith('EURange'));
      if (vars.length) lines.push('profile nodes (fill in the metrics):', ...vars.map((f) => `  - { metric: ?, path: ${f.path}${f.unit ? '' : ', unit: ?'} }`));
      return lines;
    } finally {
      await session.close();
    }
  } finally {
    await client.disconnect();
  }
}

async function findRoot(ua: OpcuaLib, session: ClientSession, root: string | undefined, nsIndex: number): Promise<string> {
  if (!root) return 'i=85';
  if (/^(ns=\d+;)?[isgb]=/.test(root)) return root;
  const [res] = await session.translateBrowsePath([
    {
      startingNode: ua.resolveNodeId('ObjectsFolder'),
      relativePath: {
        elements: parsePath(root).map((s) => ({
          referenceTypeId: ua.resolveNodeId('HierarchicalReferences'),
          isInverse: false,
          includeSubtypes: true,
          targetName: { namespaceIndex: s.ns ?? Math.max(0, nsIndex), name: s.name },
        })),
      },
    },
  ]);
  const target = res?.targets?.[0]?.targetId;
  if (!res?.statusCode.isGood() || !target) throw new Error(`no node at Objects/${root} (${res?.statusCode.name ?? 'BadNoMatch'})`);
  return target.toString();
}

async function walk(ua: OpcuaLib, session: ClientSession, id: string, prefix: string, depth: number, limit: number, out: Found[]): Promise<void> {
  if (depth <= 0 || out.length >= limit) return;
  const res = await session.browse({ nodeId: id, referenceTypeId: ua.resolveNodeId('HierarchicalReferences'), includeSubtypes: true, browseDirection: ua.BrowseDirection.Forward, resultMask: 0x3f });
  for (const r of (res.references ?? []) as ReferenceDescription[]) {
    if (out.length >= limit) return;
    const name = r.browseName.name ?? '?';
    // Only the profile's own names are bare; standard (ns 0) ones keep their prefix.
    const seg = r.browseName.namespaceIndex === 0 ? `0:${name}` : name;
    const path = prefix ? `${prefix}/${seg}` : seg;
    const cls = ua.NodeClass[r.nodeClass] ?? String(r.nodeClass);
    out.push({ path, id: r.nodeId.toString(), cls });
    if (cls === 'Object' || cls === 'Variable') await walk(ua, session, r.nodeId.toString(), path, depth - 1, limit, out);
  }
}

async function describeVariables(ua: OpcuaLib, session: ClientSession, found: Found[]): Promise<void> {
  const vars = found.filter((f) => f.cls === 'Variable');
  if (!vars.length) return;
  const values = await session.read(vars.map((v) => ({ nodeId: ua.resolveNodeId(v.id), attributeId: ua.AttributeIds.Value })));
  vars.forEach((v, k) => {
    const dv = values[k];
    if (!dv) return;
    const x = dv.value?.value as unknown;
    if (x && typeof x === 'object' && 'unitId' in x) {
      v.unit = unitFromEu(x as Parameters<typeof unitFromEu>[0]) ?? (x as { displayName?: { text?: string } }).displayName?.text ?? '?';
      v.value = undefined;
    } else v.value = dv.statusCode.isGood() ? String(x) : dv.statusCode.name;
    v.dataType = ua.DataType[dv.value?.dataType ?? 0];
  });
  // A variable's unit is its EngineeringUnits property, listed right below it.
  const byPath = new Map<string, Found>();
  for (const v of vars) if (!byPath.has(v.path)) byPath.set(v.path, v);
  for (const f of vars) {
    const eu = byPath.get(`${f.path}/0:EngineeringUnits`);
    if (eu?.unit) f.unit = eu.unit;
  }
}
