import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { formatProblem, parseConfigText } from '../../../gateway/config/load.js';
import { siteOf } from '../../../gateway/site/index.js';
import { ENVELOPE_FIELD_DOCS } from '../../../drivers/mqtt/envelope.js';
import { tempDir, waitFor } from '../../helpers/peers.js';
import { collector, config, driverFor } from './harness.js';
import { MOSQUITTO, startMosquitto } from './mosquitto.js';

/**
 * Discovery id and tag templates name the network servers' own fields. Uplinks are in each
 * server's own JSON, shaped as its documentation shows them:
 * - The Things Stack v3, "Data Formats" (uplink message), on its MQTT topic
 *   `v3/{application id}@{tenant id}/devices/{device id}/up`:
 *   https://www.thethingsindustries.com/docs/integrations/data-formats/
 * - ChirpStack v4 UplinkEvent / DeviceInfo (JSON in lowerCamelCase), on
 *   `application/{applicationId}/device/{devEui}/event/up`:
 *   https://docs.rs/chirpstack_api/4.7.0/chirpstack_api/integration/struct.UplinkEvent.html
 * The frame is the lorawan-water-meter codec's golden vector (test/golden/mqtt).
 */
const FRAME = Buffer.from('0180c93f672440e2010000400020000c00ff3f19800cb00490017df0ff0140070002900028000b0003d00038000f0004100100', 'hex').toString('base64');

const ttsUplink = {
  end_device_ids: {
    device_id: 'meter-0042',
    application_ids: { application_id: 'community-water' },
    dev_eui: '70B3D57ED0000042',
    join_eui: '0000000000000000',
    dev_addr: '260B1234',
  },
  correlation_ids: ['as:up:01HZX3M0C6R9W6B6D9Q2Y8E7N5', 'rpc:/ttn.lorawan.v3.AppAs/SimulateUplink:7a1f'],
  received_at: '2024-11-22T23:00:10.123456789Z',
  attributes: { building: 'b7' },
  uplink_message: {
    session_key_id: 'AYa2kq6B3n7t6qF1Vw==',
    f_port: 100,
    f_cnt: 57,
    frm_payload: FRAME,
    rx_metadata: [
      {
        gateway_ids: { gateway_id: 'gw-b7-roof', eui: 'B827EBFFFE8B1234' },
        time: '2024-11-22T23:00:10.080Z',
        timestamp: 2463457000,
        rssi: -97,
        channel_rssi: -97,
        snr: 6.5,
        uplink_token: 'ChIKEAoOZ3ctYjctcm9vZhIIuCfr//6LEjQQ6NvXlQk=',
      },
    ],
    settings: {
      data_rate: { lora: { bandwidth: 125000, spreading_factor: 9, coding_rate: '4/5' } },
      frequency: '470300000',
      timestamp: 2463457000,
      time: '2024-11-22T23:00:10.080Z',
    },
    received_at: '2024-11-22T23:00:10.101Z',
    consumed_airtime: '0.370688s',
  },
};

const chirpstackUplink = {
  deduplicationId: '5a2f1e3c-8b3d-4c5e-9f1a-2b3c4d5e6f70',
  time: '2024-11-22T23:00:10.123Z',
  deviceInfo: {
    tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
    tenantName: 'ChirpStack',
    applicationId: 'e3f2d8a1-5b6c-4d7e-8f90-a1b2c3d4e5f6',
    applicationName: 'community-water',
    deviceProfileId: 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d',
    deviceProfileName: 'TS013 water meter',
    deviceName: 'meter-0043',
    devEui: '70b3d57ed0000043',
    deviceClassEnabled: 'CLASS_A',
    tags: { building: 'b8' },
  },
  devAddr: '01c2d3e4',
  adr: true,
  dr: 3,
  fCnt: 58,
  fPort: 100,
  confirmed: false,
  data: FRAME,
  rxInfo: [{ gatewayId: '0016c001ff10a235', uplinkId: 4217, rssi: -99, snr: 5.8, channel: 2, location: {}, context: 'EFwMtA==', metadata: { region_config_id: 'cn470_10', region_common_name: 'CN470' }, crcStatus: 'CRC_OK' }],
  txInfo: { frequency: 470300000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 9, codeRate: 'CR_4_5' } } },
};

const RULES = `
connections: [{ id: ext, protocol: mqtt, url: "URL", reconnect_min: 100ms }]
discover:
  - connection: ext
    topic: "v3/+/devices/+/up"
    envelope: ttn
    profile: lorawan-water-meter
    class: water_meter
    id: "wm-{device_id}"
    tags: { app: "{application_id}", eui: "{dev_eui}", join: "{join_eui}", building: "{attributes.building}", port: "{f_port}" }
  - connection: ext
    topic: "application/+/device/+/event/up"
    envelope: chirpstack
    profile: lorawan-water-meter
    class: water_meter
    id: "wm-{devEui}"
    tags: { name: "{deviceName}", app: "{applicationName}", building: "{tags.building}", addr: "{devAddr}" }
`;

describe('discovery templates with the network servers\' own field names', () => {
  it('check-config accepts the TTS and ChirpStack names; refuses a field the envelope never fills, listing those it can', () => {
    const ok = parseConfigText(`version: 1\nsite: { id: t }\n${RULES.replace('URL', 'mqtt://127.0.0.1:1883')}`, {});
    const r = ok.config ? siteOf(ok.config, { lineOf: ok.lineOf }) : undefined;
    expect(r?.ok ? [] : r?.problems.map(formatProblem)).toEqual([]);

    const bad = parseConfigText(`version: 1\nsite: { id: t }\n${RULES.replace('URL', 'mqtt://127.0.0.1:1883').replace('wm-{device_id}', 'wm-{device_name}').replace('{deviceName}', '{device_name}')}`, {});
    const rb = bad.config ? siteOf(bad.config, { lineOf: bad.lineOf }) : undefined;
    const problems = rb?.ok ? [] : (rb?.problems ?? []).map(formatProblem);
    expect(problems).toHaveLength(2);
    // TTS: the whole list of what a TTS rule may use, its own names first.
    expect(problems[0]).toMatch(/^discover\[0\]\.id \(line 11\): \{device_name\} is not a field this rule's messages carry \(available: device_id, dev_eui, join_eui, /);
    for (const f of Object.keys(ENVELOPE_FIELD_DOCS.ttn)) expect(problems[0]).toContain(f);
    // ChirpStack: snake case is not its spelling.
    expect(problems[1]).toMatch(/^discover\[1\]\.tags\.name \(line 19\): \{device_name\} is not a field .*did you mean "deviceName"/);
    expect(problems[1]).toContain('tenantName');
  });

  it.skipIf(!MOSQUITTO)('a TTS rule with {device_id} and a ChirpStack rule with {devEui} make devices from uplinks through a real Mosquitto', async () => {
    const t = tempDir('fcgw-mosq-');
    const m = await startMosquitto({ dir: t.dir });
    cleanups.push(t.cleanup, () => m.stop());
    const c = collector();
    const added: DeviceConfig[] = [];
    c.ctx.addDevice = (d) => (added.push(d), true);
    const driver = driverFor(config(RULES.replace('URL', m.url)), c.ctx);
    cleanups.push(() => driver.stop());
    await driver.start();
    await waitFor(() => driver.health().state === 'connected');
    const pub = await mqtt.connectAsync(m.url, { clientId: 'network-server' });
    cleanups.push(() => void pub.end(true));
    await pub.publishAsync('v3/community-water@ttn/devices/meter-0042/up', JSON.stringify(ttsUplink), { qos: 1 });
    await pub.publishAsync('application/e3f2d8a1-5b6c-4d7e-8f90-a1b2c3d4e5f6/device/70b3d57ed0000043/event/up', JSON.stringify(chirpstackUplink), { qos: 1 });
    await waitFor(() => added.length === 2 && c.readings.length >= 2 * 47);
    expect(c.rejections).toEqual([]);
    expect(added.map((d) => [d.id, d.tags])).toEqual([
      ['wm-meter-0042', { app: 'community-water', eui: '70B3D57ED0000042', join: '0000000000000000', building: 'b7', port: '100' }],
      ['wm-70b3d57ed0000043', { name: 'meter-0043', app: 'community-water', building: 'b8', addr: '01c2d3e4' }],
    ]);
    // The same frame through each server: the same readings, on each discovered device.
    const of = (dev: string) => c.readings.filter((r) => r.device === dev && r.metric === 'volume_total').map((r) => [new Date(r.ts).toISOString(), r.value]);
    expect(of('wm-meter-0042')[0]).toEqual(['2024-11-22T00:00:00.000Z', 123456]);
    expect(of('wm-meter-0042')).toEqual(of('wm-70b3d57ed0000043'));
    expect(of('wm-meter-0042')).toHaveLength(24);
  });
});

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
