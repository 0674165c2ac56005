import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { compileDecoder } from '../../../drivers/mqtt/decode.js';
import { asMqttProfile, codecOf } from '../../../drivers/mqtt/runtime.js';
import { compileTopic } from '../../../drivers/mqtt/topic.js';
import { mqttProfileSchema } from '../../../drivers/mqtt/profile-schema.js';
import { GOLDEN_DIR } from '../../golden/mqtt/run-golden.js';
import { mqttProfiles } from '../../integration/mqtt/harness.js';

const REQUIRED = ['generic-json', 'parking-sensor', 'barrier-gate', 'automated-garage', 'parcel-locker', 'logistics-platform', 'access-controller', 'lorawan-water-meter', 'ocpp-over-mqtt-charger'];

describe('every MQTT profile against the catalog', () => {
  const profiles = [...mqttProfiles().values()].filter((p) => p.protocol === 'mqtt');
  const golden = new Set(readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')));

  it('has the profiles the transport scene needs', () => {
    expect(profiles.map((p) => p.id)).toEqual(expect.arrayContaining(REQUIRED));
  });

  it.each(profiles.map((p) => [p.id, p] as const))('%s: parses, maps only catalog names and units, has a golden case', (_id, p) => {
    const m = asMqttProfile(p);
    for (const cls of m.classes) {
      expect(CATALOG[cls], `class ${cls}`).toBeDefined();
      expect(() => compileDecoder(m, cls)).not.toThrow();
    }
    expect(() => codecOf(m)).not.toThrow();
    if (m.topic) expect(() => compileTopic(m.topic as string, { device: 'x' })).not.toThrow();
    if (m.envelope !== 'json') expect(m.codec, 'a LoRaWAN profile names its codec').toBeDefined();
    expect(golden.has(p.id), `test/golden/mqtt/${p.id}.yaml`).toBe(true);
  });

  it('refuses a profile that maps a metric the class does not have, or a unit that does not convert', () => {
    const bad = mqttProfileSchema.parse({
      id: 'bad',
      description: 'x',
      classes: ['parking_space'],
      protocol: 'mqtt',
      readings: [
        { metric: 'ac_power', path: 'p' },
        { metric: 'occupied', path: 'o', unit: 'kWh' },
      ],
      events: [{ type: 'vehicle_entry', attributes: {} }],
    });
    expect(() => compileDecoder(bad, 'parking_space')).toThrow(/"ac_power" is not a metric of parking_space.*unit "kWh" does not convert.*"vehicle_entry" is not an event/);
    const garage = mqttProfileSchema.parse({
      id: 'bad2',
      description: 'x',
      classes: ['parking_garage'],
      protocol: 'mqtt',
      events: [{ type: 'vehicle_entry', attributes: { gate: { path: 'g' }, colour: { path: 'c' } } }],
    });
    expect(() => compileDecoder(garage, 'parking_garage')).toThrow(/"colour" is not an attribute.*needs attribute "vehicle"/);
  });
});
