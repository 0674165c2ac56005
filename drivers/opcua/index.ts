import type { DriverFactory } from '../core/driver.js';
import { OpcuaDriver } from './driver.js';
import { OpcuaConfigError } from './nodes.js';
import { opcuaProfileSchema, type OpcuaProfile } from './profile-schema.js';
import type { OpcuaConnection } from './session.js';

export { pkiDir } from './certificates.js';

/**
 * OPC UA (node-opcua client): security None / Sign / SignAndEncrypt, anonymous or user name,
 * subscriptions with monitored items, reads where a server cannot subscribe. node-opcua itself is
 * loaded on first connect, so a gateway without OPC UA connections never pays for it.
 */
export const opcuaDriverFactory: DriverFactory = {
  protocols: ['opcua'],
  profileProtocol: 'opcua',
  profileSchema: opcuaProfileSchema,
  create({ connection, devices, ctx }) {
    if (connection.protocol !== 'opcua') throw new OpcuaConfigError('OPCUA_CONFIG_INVALID', `connection ${connection.id} is not opcua`);
    return new OpcuaDriver({ connection, devices, ctx });
  },
  async browse({ connection, dataDir, device, profile, depth }) {
    if (connection.protocol !== 'opcua') throw new OpcuaConfigError('OPCUA_CONFIG_INVALID', `connection ${connection.id} is not opcua`);
    const { browseServer } = await import('./browse.js');
    const { fill } = await import('./nodes.js');
    const p = profile as unknown as OpcuaProfile | undefined;
    const root = p?.root !== undefined && device ? fill(p.root, device) : undefined;
    return browseServer({ connection: connection as OpcuaConnection, dataDir, ...(root ? { root } : {}), ...(p?.namespace ? { namespace: p.namespace } : {}), ...(depth ? { depth } : {}) });
  },
};
