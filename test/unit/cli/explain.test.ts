import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DRIVERS } from '../../../drivers/index.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';
import { parseConfig } from '../../../gateway/config/load.js';
import { systemClock } from '../../../gateway/model/clock.js';
import { createLogger } from '../../../gateway/runtime/log.js';
import { explainDevice } from '../../../gateway/runtime/explain.js';
import { tempDir } from '../../helpers/peers.js';

const CONFIG = `version: 1
site: { id: t }
connections:
  - { id: bus, protocol: mqtt, url: "mqtt://127.0.0.1:1" }
devices:
  - { id: meter-1, class: grid_meter, connection: bus, profile: generic-json }
discover:
  - { connection: bus, topic: "access/{controller}/door/{door}/event", profile: access-controller, class: access_door, id: "door-{door}" }
  - { connection: bus, topic: "application/+/device/+/event/up", envelope: chirpstack, profile: parking-sensor, class: parking_space, id: "{deviceName}" }
`;

describe('fcgw explain', () => {
  const config = parseConfig(CONFIG, 'explain.yaml', {});
  const env = { config, profiles: loadProfiles(DRIVERS).profiles, clock: systemClock, log: createLogger({ level: 'silent' }), dataDir: '/nonexistent' };

  it('a configured device: its driver, connection and profile, then the driver’s plan', () => {
    const lines = explainDevice('meter-1', env);
    expect(lines[0]).toBe('meter-1 (grid_meter) on bus [mqtt], profile generic-json');
    expect(lines.length).toBeGreaterThan(1);
  });

  it('a discovered device: the rule whose id template tells, not the catch-all ones', () => {
    expect(explainDevice('door-d01', env)).toEqual([
      'door-d01 is not configured; it is created when a message arrives on this discover rule:',
      '  bus: access/{controller}/door/{door}/event (json) → class access_door, profile access-controller, id door-{door}',
    ]);
    const any = explainDevice('space-042', env);
    expect(any[0]).toContain('may create it');
    expect(any.slice(1)).toEqual(['  bus: application/+/device/+/event/up (chirpstack) → class parking_space, profile parking-sensor, id {deviceName}']);
  });

  it('the command: exit 0 with the plan, 2 for a device nothing can create', () => {
    const { dir, cleanup } = tempDir();
    try {
      const file = join(dir, 'c.yaml');
      writeFileSync(file, CONFIG.replace(/\n {2}- \{ connection: bus, topic: "application.*\n/, '\n'));
      const bin = join(import.meta.dirname, '../../../bin/fcgw.js');
      const ok = spawnSync(process.execPath, [bin, 'explain', '-c', file, 'door-7'], { encoding: 'utf8' });
      expect(ok.status).toBe(0);
      expect(ok.stdout).toContain('door-7 is not configured');
      const bad = spawnSync(process.execPath, [bin, 'explain', '-c', file, 'pump-9'], { encoding: 'utf8' });
      expect(bad.status).toBe(2);
      expect(bad.stderr.trim()).toBe(`fcgw: no device "pump-9": not in devices, and no discover rule's id template fits it (${file})`);
    } finally {
      cleanup();
    }
  });
});
