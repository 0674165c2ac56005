import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/peers.js';

/**
 * Broken configs, each with one mistake: `fcgw check-config` (a real process) exits 2 naming
 * the line, and `fcgw start` refuses exactly the same set with the same problems (both run the
 * one validation, gateway/site). Problems in a profile name the profile's file and line.
 */

const t = tempDir('fcgw-broken-');
afterAll(() => t.cleanup());
const BIN = join(import.meta.dirname, '../../../bin/fcgw.js');
const PROFILES = join(t.dir, 'profiles');
mkdirSync(PROFILES);

const profile = (id: string, points: string) =>
  writeFileSync(join(PROFILES, `${id}.yaml`), `id: ${id}\ndescription: test meter\nclasses: [grid_meter]\nprotocol: modbus\npoints:\n${points}`);
profile('bad-metric', '  - { metric: import_totl, address: 0, type: uint32, unit: Wh }\n');
profile('bad-unit', '  - { metric: import_total, address: 0, type: uint32, unit: kWhh }\n');
profile('overlap', '  - { metric: import_total, address: 0, type: uint32, unit: Wh }\n  - { metric: export_total, address: 1, type: uint32, unit: Wh }\n');

/** Line 7 onwards is the case's own text; the header is the same for every case. */
const HEADER = `version: 1
site: { id: broken }
store: { path: ${join(t.dir, 'gw.db')} }
api: { host: 127.0.0.1, port: 0 }
broker: { embedded: { host: 127.0.0.1, port: 0 } }
profiles: { dirs: [${PROFILES}] }
`;
const MODBUS = '  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, port: 1502 }\n';

interface Case {
  name: string;
  yaml: string;
  /** The problem, as printed: path (line N): message — or a profile file's. */
  want: RegExp;
}

const CASES: Case[] = [
  { name: 'bad MQTT url', yaml: `connections:\n  - { id: lora, protocol: mqtt, url: "mqtt//broker:1883" }\n`, want: /^connections\[0\]\.url \(line 8\): "mqtt\/\/broker:1883" is not a URL/ },
  { name: 'bad influxdb2 url', yaml: `sinks:\n  - { type: influxdb2, url: "htp:/localhost:8086", token: t, org: o, bucket: b }\n`, want: /^sinks\[0\]\.url \(line 8\): htp:\/\/ is not a scheme an influxdb2 sink speaks/ },
  {
    name: 'bad template field',
    yaml: `connections:\n  - { id: lora, protocol: mqtt, url: embedded }\ndiscover:\n  - { connection: lora, topic: "application/+/device/{devEui}/event/up", envelope: chirpstack, profile: lorawan-water-meter, class: water_meter, id: "wm-{nosuchfield}" }\n`,
    want: /^discover\[0\]\.id \(line 10\): \{nosuchfield\} is not a field this rule's messages carry .*available: devEui, deviceName, applicationId/,
  },
  { name: 'unknown metric', yaml: `connections:\n${MODBUS}devices:\n  - { id: m1, class: grid_meter, connection: plant, profile: bad-metric, unit: 1 }\n`, want: /bad-metric\.yaml: points\[0\]\.metric \(line 6\): "import_totl" is not a metric of grid_meter \(did you mean "import_total"\?\)/ },
  { name: 'unknown unit', yaml: `connections:\n${MODBUS}devices:\n  - { id: m1, class: grid_meter, connection: plant, profile: bad-unit, unit: 1 }\n`, want: /bad-unit\.yaml: points\[0\]\.unit \(line 6\): unknown unit "kWhh" \(did you mean "kWh"\?\)/ },
  { name: 'overlapping registers', yaml: `connections:\n${MODBUS}devices:\n  - { id: m1, class: grid_meter, connection: plant, profile: overlap, unit: 1 }\n`, want: /overlap\.yaml: points\[1\]\.address \(line 7\): export_total overlaps import_total \(points\[0\]\) at holding register 1/ },
  { name: 'class/profile mismatch', yaml: `connections:\n${MODBUS}devices:\n  - { id: hp, class: battery, connection: plant, profile: heat-pump-xyzz, unit: 1 }\n`, want: /^devices\[0\]\.class \(line 10\): profile "heat-pump-xyzz" serves heat_pump, thermal_storage, not battery/ },
  { name: 'unknown connection', yaml: `connections:\n${MODBUS}devices:\n  - { id: m1, class: battery, connection: plnat, profile: plain-ess, unit: 1 }\n`, want: /^devices\[0\]\.connection \(line 10\): no connection "plnat" \(did you mean "plant"\?\)/ },
  { name: 'duplicate device id', yaml: `connections:\n${MODBUS}devices:\n  - { id: m1, class: battery, connection: plant, profile: plain-ess, unit: 1 }\n  - { id: m1, class: battery, connection: plant, profile: plain-ess, unit: 2 }\n`, want: /^devices\[1\]\.id \(line 11\): duplicate device id "m1"/ },
  { name: 'bad duration', yaml: `connections:\n  - { id: plant, protocol: modbus-tcp, host: 127.0.0.1, timeout: 5 secs }\n`, want: /^connections\[0\]\.timeout \(line 8\): "5 secs" is not a duration/ },
  { name: 'unknown protocol', yaml: `connections:\n  - { id: plant, protocol: modbus-tpc, host: 127.0.0.1 }\n`, want: /^connections\[0\]\.protocol \(line 8\): no driver for protocol "modbus-tpc" in this build \(did you mean "modbus-tcp"\?\)/ },
  { name: 'Modbus device without a unit id', yaml: `connections:\n${MODBUS}devices:\n  - { id: m1, class: battery, connection: plant, profile: plain-ess }\n`, want: /^devices\[0\]\.unit \(line 10\): a Modbus device needs a unit id/ },
  { name: 'two connections on one endpoint', yaml: `connections:\n${MODBUS}  - { id: plant2, protocol: modbus-tcp, host: 127.0.0.1, port: 1502 }\n`, want: /^connections\[1\]\.host \(line 9\): 127\.0\.0\.1:1502 is already opened by connection "plant"/ },
  { name: 'profile of another protocol', yaml: `connections:\n  - { id: lora, protocol: mqtt, url: embedded }\ndevices:\n  - { id: b1, class: battery, connection: lora, profile: plain-ess }\n`, want: /^devices\[0\]\.profile \(line 10\): profile "plain-ess" is a modbus profile; connection "lora" speaks mqtt/ },
  { name: 'mqtt sink on a Modbus connection', yaml: `connections:\n${MODBUS}sinks:\n  - { type: mqtt, connection: plant }\n`, want: /^sinks\[0\]\.connection \(line 10\): connection "plant" speaks modbus-tcp; an mqtt sink needs an mqtt connection/ },
  { name: 'discovery on a Modbus connection', yaml: `connections:\n${MODBUS}discover:\n  - { connection: plant, topic: "x/{id}", profile: generic-json, class: grid_meter, id: "{id}" }\n`, want: /^discover\[0\]\.connection \(line 10\): connection "plant" speaks modbus-tcp, which has no discovery/ },
  { name: 'counter maximum in a unit of another quantity', yaml: `connections:\n${MODBUS}devices:\n  - { id: b1, class: battery, connection: plant, profile: plain-ess, unit: 1, options: { charged_total_max: "65536 m³" } }\n`, want: /^devices\[0\]\.options\.charged_total_max \(line 10\): unit "m³" does not convert to Wh/ },
];

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, FCGW_SITE_SECRET: 'k'.repeat(32) } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // A start that got past the validation would run: stop it (the test then fails on its exit code).
    const timer = setTimeout(() => p.kill('SIGTERM'), 20_000);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('broken configs: check-config and start refuse the same set with the same problems', () => {
  it.each(CASES)('$name', async ({ name, yaml, want }) => {
    const file = join(t.dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.yaml`);
    writeFileSync(file, HEADER + yaml);
    const [check, start] = await Promise.all([run(['check-config', file]), run(['start', '-c', file])]);
    expect(check.code, check.stderr).toBe(2);
    const lines = check.stderr.trim().split('\n');
    expect(lines[0]).toBe(`${file}: 1 problem`);
    expect(lines[1]).toMatch(want);
    expect(start.code, start.stderr).toBe(2);
    expect(start.stderr).toBe(check.stderr);
  }, 40_000);

  it('the header alone is valid (each case has exactly its one mistake)', async () => {
    const file = join(t.dir, 'valid.yaml');
    writeFileSync(file, `${HEADER}connections:\n${MODBUS}devices:\n  - { id: b1, class: battery, connection: plant, profile: plain-ess, unit: 1, options: { charged_total_max: "4294967296 Wh" } }\n`);
    const check = await run(['check-config', file]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  }, 40_000);
});
