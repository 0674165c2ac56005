import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanupsAfterEach } from '../../helpers/cleanups.js';
import { tempDir } from '../../helpers/peers.js';
import { TestChargePoint } from './charge-point.js';
import { ocppGateway, PASSWORD } from './harness.js';

/** Security profile 2: TLS (a certificate made by openssl here) plus the charge point's Basic password. */
const cleanup = cleanupsAfterEach();

describe('OCPP security profile 2 (TLS)', () => {
  it('serves wss with the configured certificate, checks the password, refuses plain ws', async () => {
    const t = tempDir('fcgw-ocpp-tls-');
    cleanup(() => t.cleanup());
    const cert = join(t.dir, 'cert.pem');
    const key = join(t.dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const { gw, url } = await ocppGateway(
      t.dir,
      `connections: [{ id: chargers, protocol: ocpp, host: 127.0.0.1, port: 0, security_profile: 2, tls: { cert: ${cert}, key: ${key} }, passwords: { CP-001: ${PASSWORD} } }]
devices: [{ id: ev-1, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-001 }]
`,
    );
    cleanup(() => gw.stop());
    const wss = url.replace('ws://', 'wss://');
    const ca = readFileSync(cert);
    const cp = await TestChargePoint.connect(wss, { id: 'CP-001', password: PASSWORD, ca });
    cleanup(() => cp.close());
    expect(await cp.call('Heartbeat', {})).toEqual([3, 'm1', { currentTime: expect.any(String) as unknown }]);
    await expect(TestChargePoint.connect(wss, { id: 'CP-001', password: 'wrong-password-0123456', ca })).rejects.toThrow('HTTP 401');
    await expect(TestChargePoint.connect(url, { id: 'CP-001', password: PASSWORD })).rejects.toThrow();
    // A charge point that does not trust the certificate does not connect.
    await expect(TestChargePoint.connect(wss, { id: 'CP-001', password: PASSWORD })).rejects.toThrow(/self[- ]signed|certificate/);
  });
});
