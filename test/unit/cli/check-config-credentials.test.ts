import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { urlCredentialWarnings } from '../../../gateway/config/credentials.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { tempDir } from '../../helpers/peers.js';

const CONFIG = `version: 1
site: { id: t }
connections:
  - { id: bus, protocol: mqtt, url: "mqtt://dev:Hunter2-pw@10.0.0.5:1883" }
  - { id: clean, protocol: mqtt, url: "mqtt://10.0.0.6:1883", username: dev, password: "\${MQTT_PW}" }
  - { id: ua, protocol: opcua, endpoint: "opc.tcp://op:Hunter2-pw@10.0.0.7:4840" }
sinks:
  - { id: a, type: influxdb1, url: "http://admin:Hunter2-pw@influx:8086", database: d }
  - { id: b, type: influxdb1, url: "http://influx:8086/?u=admin&p=Hunter2-pw", database: d }
  - { id: c, type: influxdb2, url: "http://influx:8086", token: t, org: o, bucket: b }
`;

describe('check-config: credentials inside URLs', () => {
  it('each is a warning naming the path and the separate fields, with the password redacted', () => {
    const w = urlCredentialWarnings(parseConfig(CONFIG, 'c.yaml', { MQTT_PW: 'x' }));
    expect(w.map((l) => l.split(':')[0])).toEqual(['connections[0].url', 'connections[2].endpoint', 'sinks[0].url', 'sinks[1].url']);
    expect(w[0]).toMatch(/mqtt:\/\/dev:\*\*\*@10\.0\.0\.5:1883.*connections\[0\]\.username and \.password/);
    expect(w.join('\n')).not.toContain('Hunter2');
  });

  it('fcgw check-config prints them on stderr and still exits 0 (the config works)', () => {
    const t = tempDir('fcgw-cc-');
    try {
      const file = join(t.dir, 'c.yaml');
      writeFileSync(file, CONFIG);
      const bin = join(import.meta.dirname, '../../../bin/fcgw.js');
      const r = spawnSync(process.execPath, [bin, 'check-config', file], { encoding: 'utf8', env: { ...process.env, MQTT_PW: 'x' } });
      expect(r.stdout).toBe(`${file}: valid\n`);
      expect(r.status).toBe(0);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('warning: '))).toHaveLength(4);
      expect(r.stderr).not.toContain('Hunter2');
    } finally {
      t.cleanup();
    }
  });
});
