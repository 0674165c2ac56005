import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../gateway/config/load.js';

const minimal = 'version: 1\nsite: { id: test-site }\n';
const hash = '"scrypt$16384$8$1$c2FsdA==$aGFzaA=="';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'x.yaml', {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => `${p.path} (line ${p.line}): ${p.message}`);
    throw err;
  }
  return [];
}

describe('broker.embedded config', () => {
  it('users get nothing by default and the new limits have their defaults', () => {
    const cfg = parseConfig(`${minimal}broker: { embedded: { users: [{ username: meter, password_hash: ${hash}, publish: ["meters/#"] }] } }\n`, 'x.yaml', {});
    const emb = cfg.broker.embedded;
    expect(emb?.users[0]).toMatchObject({ publish: ['meters/#'], subscribe: [] });
    expect(emb).toMatchObject({
      max_connect_packet: 8000,
      connect_timeout: 10_000,
      max_login_failures: 10,
      login_failure_window: 60_000,
      client_ids: ['{username}', '{username}-*'],
    });
    expect(emb?.tls).toBeUndefined();
  });

  it('a user with no filters at all (once given #) is a problem, not a silent lock-out', () => {
    expect(problems(`${minimal}broker: { embedded: { users: [{ username: meter, password_hash: ${hash} }] } }\n`)).toEqual([
      'broker.embedded.users[0] (line 3): user "meter" may neither publish nor subscribe: list its topic filters in publish/subscribe (there is no default)',
    ]);
  });

  it('an mqtts listener: client certificates need a CA, and off loopback users', () => {
    expect(problems(`${minimal}broker: { embedded: { tls: { cert: a.crt, key: a.key, client_certificates: optional } } }\n`)).toEqual([
      'broker.embedded.tls.ca (line 3): client_certificates: optional needs the CA that signs them',
    ]);
    expect(problems(`${minimal}broker: { embedded: { tls: { host: 0.0.0.0, cert: a.crt, key: a.key } } }\n`)).toEqual([
      "broker.embedded.users (line 3): the embedded broker's mqtts listener is on 0.0.0.0: users are required off loopback",
    ]);
    const ok = parseConfig(`${minimal}broker: { embedded: { tls: { cert: a.crt, key: a.key } } }\n`, 'x.yaml', {});
    expect(ok.broker.embedded?.tls).toEqual({ port: 8883, cert: 'a.crt', key: 'a.key', client_certificates: 'none' });
  });

  it('sinks take tls options, verified by default', () => {
    const cfg = parseConfig(`${minimal}sinks:\n  - { type: influxdb1, url: "https://db:8086", database: c, tls: { ca: ca.pem } }\n`, 'x.yaml', {});
    expect(cfg.sinks[0]).toMatchObject({ tls: { ca: 'ca.pem', reject_unauthorized: true } });
  });
});
