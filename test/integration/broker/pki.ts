import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Client certificate and key for a CN. */
  client(cn: string): { cert: string; key: string };
  /** A second, unrelated CA (a certificate the broker must not trust). */
  otherCa: string;
  otherClient(cn: string): { cert: string; key: string };
}

const ssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

function makeCa(dir: string, name: string): void {
  ssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-subj', `/CN=${name}`, '-days', '2']);
}

function sign(dir: string, ca: string, name: string, cn: string, ext: string): { cert: string; key: string } {
  writeFileSync(join(dir, `${name}.ext`), ext);
  ssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  ssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** A throwaway CA with a server certificate for localhost/127.0.0.1 and client certificates, made by the openssl CLI. */
export function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'fcgw-pki-'));
  makeCa(dir, 'ca');
  makeCa(dir, 'other-ca');
  const server = sign(dir, 'ca', 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  return {
    dir,
    ca: join(dir, 'ca.crt'),
    serverCert: server.cert,
    serverKey: server.key,
    client: (cn) => sign(dir, 'ca', `client-${cn}`, cn, 'extendedKeyUsage=clientAuth\n'),
    otherCa: join(dir, 'other-ca.crt'),
    otherClient: (cn) => sign(dir, 'other-ca', `other-${cn}`, cn, 'extendedKeyUsage=clientAuth\n'),
  };
}
