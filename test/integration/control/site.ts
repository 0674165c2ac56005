import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../helpers/peers.js';

/**
 * A small community for the command tests: two heat pumps with a tank (hp-2's SG Ready input is
 * broken: it takes the write and keeps its state), two batteries (ess-2 held by an interlock)
 * over Modbus TCP, two barrier gates and a locker bank over the embedded MQTT broker.
 */

export const ADMIN = 'admin-token-0123456789abcdef';
export const READ = 'read-token-0123456789abcdefgh';

export async function controlSite(dir: string, o: { speed?: number; extra?: string; devices?: string } = {}): Promise<{ yaml: string; file: string; api: number; mqtt: number }> {
  const [tcp, api, mqtt] = [await freePort(), await freePort(), await freePort()];
  const scenario = join(dir, 'scenario.yaml');
  writeFileSync(
    scenario,
    `energy:
  step: 5s
  load_kw: 60
  endpoints:
    - name: plant
      framing: tcp
      port: ${tcp}
      units:
        - { unit: 3, profile: heat-pump-xyzz, devices: [{ id: hp-1, model: heat_pump, rated_kw: 40 }, { id: tank-1, model: tank, volume_m3: 6 }] }
        - { unit: 4, profile: heat-pump-xyzz, devices: [{ id: hp-2, model: heat_pump, rated_kw: 30, ignore_commands: true }] }
        - { unit: 5, profile: plain-ess, devices: [{ id: ess, model: battery, capacity_kwh: 100, power_kw: 50 }] }
        - { unit: 6, profile: plain-ess, devices: [{ id: ess-2, model: battery, capacity_kwh: 100, power_kw: 50 }] }
transport:
  parking: { spaces: 20, chargers: 0 }
  gates: 2
  garage: { enabled: false }
  lockers: { banks: 1, compartments: 20, parcels_per_day: 50 }
  doors: 0
  water: { potable: 0, reclaimed: 0, rainwater: 0 }
`,
  );
  const yaml = `version: 1
site: { id: ctl, timezone: Asia/Shanghai, latitude: 30.27, longitude: 120.15 }
store: { path: ${join(dir, 'gw.db')} }
broker: { embedded: { host: 127.0.0.1, port: ${mqtt} } }
api:
  host: 127.0.0.1
  port: ${api}
  tokens: [${READ}]
  admin_tokens: [{ name: ops-desk, token: ${ADMIN} }]
logging: { level: warn }
simulators: { enabled: true, speed: ${o.speed ?? 1}, seed: 7, scenario: ${scenario} }
connections:
  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: ${tcp}, timeout: 1s, gap: 0ms, retries: 1 }
  - { id: community-mqtt, protocol: mqtt, url: embedded }
devices:
  - { id: hp-1, class: heat_pump, connection: plant, profile: heat-pump-xyzz, unit: 3, poll: 1s }
  - { id: tank-1, class: thermal_storage, connection: plant, profile: heat-pump-xyzz, unit: 3, poll: 1s, options: { volume_m3: 6 } }
  - { id: hp-2, class: heat_pump, connection: plant, profile: heat-pump-xyzz, unit: 4, poll: 1s }
  - { id: ess, class: battery, connection: plant, profile: plain-ess, unit: 5, poll: 1s, options: { rated_power_w: 50000 } }
  - { id: ess-2, class: battery, connection: plant, profile: plain-ess, unit: 6, poll: 1s, options: { rated_power_w: 50000 } }
  - { id: gate-north, class: parking_garage, connection: community-mqtt, profile: barrier-gate, options: { gate: north } }
  - { id: gate-south, class: parking_garage, connection: community-mqtt, profile: barrier-gate, options: { gate: south } }
  - { id: locker-1, class: parcel_locker, connection: community-mqtt, profile: parcel-locker, options: { bank: "1" } }
${o.devices ?? ''}control:
  interlocks:
    - { devices: [ess-2], commands: [power_setpoint], when: { device: ess-2, metric: soc, below: 101 }, reason: battery ess-2 is under maintenance }
${o.extra ?? ''}`;
  const file = join(dir, 'gw.yaml');
  writeFileSync(file, yaml);
  return { yaml, file, api, mqtt };
}
