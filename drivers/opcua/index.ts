import type { DriverFactory } from '../core/driver.js';
import { opcuaGolden } from './golden.js';
import { opcuaFromRecording, recordOpcua } from './record.js';
import type { Loaded } from '../profiles/schema.js';
import { checkOpcua, checkOpcuaProfile } from './checks.js';
import { opcuaConnectionSchema, type OpcuaConnection } from './connection-schema.js';
import { OpcuaDriver } from './driver.js';
import { opcuaProfileSchema, type OpcuaProfile } from './profile-schema.js';

export { pkiDir } from './certificates.js';
export { opcuaConnectionSchema, type OpcuaConnection } from './connection-schema.js';

/**
 * OPC UA (node-opcua client): security None / Sign / SignAndEncrypt, anonymous or user name,
 * subscriptions with monitored items, reads where a server cannot subscribe. node-opcua itself is
 * loaded on first connect, so a gateway without OPC UA connections never pays for it.
 */
export const opcuaDriverFactory: DriverFactory<OpcuaConnection, Loaded<OpcuaProfile>> = {
  protocols: ['opcua'],
  connectionSchema: opcuaConnectionSchema,
  profileProtocol: 'opcua',
  profileSchema: opcuaProfileSchema,
  golden: opcuaGolden,
  record: recordOpcua,
  fromRecording: opcuaFromRecording,
  checkProfile: checkOpcuaProfile,
  check: checkOpcua,
  pointFacts: (p, cls) => new Map(p.nodes.filter((n) => n.class === undefined || n.class === cls).map((n) => [n.metric, n.unit !== undefined ? { unit: n.unit } : {}])),
  create({ connection, devices, ctx }) {
    return new OpcuaDriver({ connection, devices, ctx });
  },
  async browse({ connection, dataDir, device, profile: p, depth }) {
    const { browseServer } = await import('./browse.js');
    const { fill } = await import('./nodes.js');
    const root = p?.root !== undefined && device ? fill(p.root, device) : undefined;
    return browseServer({ connection, dataDir, ...(root ? { root } : {}), ...(p?.namespace ? { namespace: p.namespace } : {}), ...(depth ? { depth } : {}) });
  },
};
