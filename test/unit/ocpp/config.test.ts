import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../gateway/config/load.js';
import { siteOf } from '../../../gateway/site/index.js';
import { discoveredId } from '../../../drivers/ocpp/devices.js';

/** The OCPP driver's part of the one validation: its connection schema and cross-checks. */
function problems(body: string): string[] {
  const parsed = parseConfigText(`version: 1\nsite: { id: t }\n${body}`, {});
  const r = parsed.config ? siteOf(parsed.config, { lineOf: parsed.lineOf }) : { ok: false as const, problems: parsed.problems };
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

const PW = 'a-password-of-20-chr';

describe('OCPP connection checks', () => {
  it('accepts the issue example: a listener, a discovery rule, a device with charge_point_id', () => {
    expect(
      problems(`connections: [{ id: chargers, protocol: ocpp, host: 0.0.0.0, port: 9220, path: /ocpp, password: ${PW}, passwords: { CP-1: ${PW} } }]
discover: [{ connection: chargers, profile: ocpp16-charger, class: ev_charger, id: "ev-{chargePointId}" }]
devices: [{ id: ev-a, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-1 }]
`),
    ).toEqual([]);
  });

  it('refuses no password off loopback, TLS without files, short passwords, a bad path, two listeners on a port', () => {
    expect(
      problems(`connections:
  - { id: d, protocol: ocpp, host: 127.0.0.1, port: 9222, path: "/ocpp/../x", security_profile: 0 }
`),
    ).toEqual([
      'connections[0].path: a path such as "/ocpp": "/" then segments of letters, digits, ".", "_", "~", "-" (not "." or ".."), no trailing "/"',
    ]);
    expect(
      problems(`connections:
  - { id: a, protocol: ocpp, host: 0.0.0.0, port: 9220, security_profile: 0 }
  - { id: b, protocol: ocpp, host: 127.0.0.1, port: 9220, security_profile: 2, passwords: { CP-1: short } }
  - { id: c, protocol: ocpp, host: 127.0.0.1, port: 9221, security_profile: 2, tls: { cert: /nonexistent/c.pem, key: /nonexistent/k.pem } }
`),
    ).toEqual([
      'connections[0].security_profile: security profile 0 lets any charge point in without a password: only on a loopback host (host is 0.0.0.0); use 1 (HTTP Basic) or 2 (TLS)',
      'connections[1].port: connections[0] already listens on port 9220',
      'connections[1].tls: security profile 2 is TLS: give tls.cert and tls.key',
      'connections[1].passwords.CP-1: OCPP security profiles call for a password of 16 to 40 characters',
      'connections[2].tls.cert: file "/nonexistent/c.pem" does not exist',
      'connections[2].tls.key: file "/nonexistent/k.pem" does not exist',
    ]);
  });

  it('refuses a charger without a password, two devices on one connector, a rule without {chargePointId}', () => {
    expect(
      problems(`connections: [{ id: chargers, protocol: ocpp, host: 127.0.0.1, passwords: { CP-1: ${PW} } }]
discover: [{ connection: chargers, profile: ocpp16-charger, class: ev_charger, id: "ev-charger" }]
devices:
  - { id: ev-a, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-1 }
  - { id: ev-b, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-1, options: { connector: 1 } }
  - { id: ev-c, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: CP-2 }
  - { id: ev-d, class: ev_charger, connection: chargers, profile: ocpp16-charger, charge_point_id: "CP 3/..", options: { connector: 0 } }
`),
    ).toEqual([
      'connections[0].password: a discovery rule admits charge points here: give them a password (security profile 1 and 2 need one)',
      'discover[0].id: an OCPP discovery id names the charge point, e.g. "ev-{chargePointId}"',
      'devices[1].charge_point_id: devices[0] is already charge point CP-1 connector 1',
      'devices[2].charge_point_id: charge point CP-2 has no password: add passwords.CP-2 to connection chargers',
      'devices[3].charge_point_id: "CP 3/.." is not a charge point id (letters, digits, ".", "_", "~", ":", "-", at most 48)',
      'devices[3].options.connector: a connector is a whole number from 1',
      'devices[3].charge_point_id: charge point CP 3/.. has no password: add passwords.CP 3/.. to connection chargers',
    ]);
  });

  it('names discovered connectors as device ids, and refuses identities that are not', () => {
    expect(discoveredId('ev-{chargePointId}', 'CP-007', 1)).toBe('ev-cp-007');
    expect(discoveredId('ev-{chargePointId}', 'CP-007', 2)).toBe('ev-cp-007-2');
    expect(discoveredId('ev-{chargePointId}-c{connectorId}', 'CP-007', 2)).toBe('ev-cp-007-c2');
    expect(discoveredId('ev-{chargePointId}', 'a:b', 1)).toBeUndefined();
    expect(discoveredId('ev-{chargePointId}', '../x', 1)).toBeUndefined();
    expect(discoveredId('ev-{chargePointId}', 'x'.repeat(49), 1)).toBeUndefined();
  });
});
