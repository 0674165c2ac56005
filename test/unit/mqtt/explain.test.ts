import { siteOf } from '../../../gateway/site/index.js';
import { describe, expect, it } from 'vitest';
import { collector, config, driverFor } from '../../integration/mqtt/harness.js';

describe('MQTT driver create() and explain (no I/O)', () => {
  const cfg = config(`
connections: [{ id: lora, protocol: mqtt, url: "mqtt://127.0.0.1:1" }]
devices:
  - { id: wm-7, class: water_meter, connection: lora, profile: lorawan-water-meter, options: { app: water, devEui: 70b3d5e75e000007 } }
  - { id: ev-9, class: ev_charger, connection: lora, profile: ocpp-over-mqtt-charger }
discover:
  - { connection: lora, topic: "application/+/device/+/event/up", envelope: chirpstack, profile: parking-sensor, class: parking_space, id: "space-{devEui}" }
`);
  const driver = driverFor(cfg, collector().ctx);

  it('shows topic, envelope, codec and mappings of a device', () => {
    const lines = driver.explain?.('wm-7') ?? [];
    expect(lines[0]).toBe('broker mqtt://127.0.0.1:1, subscribe "application/water/device/70b3d5e75e000007/event/up" QoS 1; acknowledged after commit');
    expect(lines[1]).toContain('envelope chirpstack, codec lorawan-water-meter');
    expect(lines).toContain('  volume_total ← hourly[].volume_l [L]');
    expect(driver.explain?.('ev-9')).toContain('  energy_total ← meterValue[].sampledValue[?measurand=Energy.Active.Import.Register].value [Wh]');
  });

  it('says how an unknown device could appear', () => {
    expect(driver.explain?.('space-x')).toEqual([
      'device space-x is not configured on this connection (yet); it may appear through discovery:',
      '  discovery: application/+/device/+/event/up → id "space-{devEui}" (parking_space, profile parking-sensor)',
    ]);
  });

  it('configuration problems are the one validation\'s (gateway/site), with their lines', () => {
    const problemsOf = (yaml: string) => {
      const r = siteOf(config(yaml));
      return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
    };
    expect(problemsOf(`
connections: [{ id: lora, protocol: mqtt, url: "ws://127.0.0.1:1" }]
devices: [{ id: wm-7, class: water_meter, connection: lora, profile: generic-json }]
`)).toEqual(['connections[0].url: ws:// is not a scheme this driver speaks (use mqtt://, mqtts://, tcp://, ssl://, tls://)']);
    expect(problemsOf(`
connections: [{ id: lora, protocol: mqtt, url: "mqtt://127.0.0.1:1" }]
devices: [{ id: gate, class: parking_garage, connection: lora, profile: parking-sensor, topic: "x/y" }]
`)).toEqual(['devices[0].class: profile "parking-sensor" serves parking_space, not parking_garage']);
  });

  it('reports its health before it starts', () => {
    expect(driver.health()).toMatchObject({ connection: 'lora', protocol: 'mqtt', state: 'stopped', devices: [{ id: 'wm-7', state: 'unknown' }, { id: 'ev-9', state: 'unknown' }] });
  });
});
