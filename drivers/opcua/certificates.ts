import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager';
import type { OpcuaLib } from './library.js';

/**
 * The gateway's OPC UA application identity: one certificate manager (PKI folder) in the data
 * directory, next to the store. The client certificate is created there on the first secure
 * connect and kept, so a server operator trusts it once. Server certificates are trusted only by
 * configuration (`trusted_certificates`), never automatically.
 */

export const APPLICATION_NAME = 'fcgw';
export const APPLICATION_URI = 'urn:fcgw:gateway';

export function pkiDir(dataDir: string): string {
  return join(resolve(dataDir), 'opcua-pki');
}

/** DER bytes of a PEM or DER certificate file. */
export function readCertificate(file: string): Buffer {
  const raw = readFileSync(file);
  const text = raw.toString('latin1');
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(text);
  return m ? Buffer.from((m[1] as string).replace(/\s+/g, ''), 'base64') : raw;
}

export async function clientCertificateManager(
  ua: OpcuaLib,
  dataDir: string,
  trusted: readonly string[],
): Promise<OPCUACertificateManager> {
  const cm = new ua.OPCUACertificateManager({ rootFolder: pkiDir(dataDir), automaticallyAcceptUnknownCertificate: false });
  await cm.initialize();
  for (const file of trusted) await cm.trustCertificate(readCertificate(file));
  return cm;
}
