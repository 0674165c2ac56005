import { createRequire } from 'node:module';

/**
 * The OPC UA client library, loaded when a connection first needs it: node-opcua-client and
 * its certificate manager, not the `node-opcua` umbrella, which also loads the server, the address
 * space and its nodesets (about 10 MB more RSS in a gateway that only ever acts as a client;
 * the simulators, which run servers, import `node-opcua` themselves).
 */
export type OpcuaLib = typeof import('node-opcua-client') & Pick<typeof import('node-opcua-certificate-manager'), 'OPCUACertificateManager'>;

let lib: OpcuaLib | undefined;

export function loadOpcua(): OpcuaLib {
  if (!lib) {
    const require = createRequire(import.meta.url);
    const client = require('node-opcua-client') as typeof import('node-opcua-client');
    const { OPCUACertificateManager } = require('node-opcua-certificate-manager') as typeof import('node-opcua-certificate-manager');
    lib = Object.assign(Object.create(client) as typeof client, { OPCUACertificateManager });
  }
  return lib;
}
