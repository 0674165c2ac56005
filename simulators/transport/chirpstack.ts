import type { Outgoing } from './outgoing.js';
import type { Rng } from './rng.js';

/**
 * ChirpStack v4 uplink events as its MQTT integration publishes them
 * (`application/{applicationId}/device/{devEui}/event/up`, JSON, camelCase).
 */
export const APPLICATIONS = {
  parking: { id: '0f8a3c1e-7b2d-4c5e-9a10-000000000001', name: 'parking-sensors', profile: 'parking-sensor' },
  water: { id: '0f8a3c1e-7b2d-4c5e-9a10-000000000002', name: 'water-meters', profile: 'lorawan-water-meter' },
} as const;

const TENANT = '52f14cd4-c6f1-4fbd-8f87-4025e1d49242';
const GATEWAYS = ['0016c001ff10a235', '0016c001ff10a236'];

export interface LoraDevice {
  devEui: string;
  name: string;
  tags: Record<string, string>;
  fCnt: number;
}

export function devEui(prefix: string, n: number): string {
  return (prefix + n.toString(16).padStart(16 - prefix.length, '0')).slice(0, 16);
}

function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(rng() * 16).toString(16);
  return s;
}

export function chirpstackUplink(
  app: (typeof APPLICATIONS)[keyof typeof APPLICATIONS],
  dev: LoraDevice,
  fPort: number,
  bytes: Uint8Array,
  ts: number,
  rng: Rng,
): Outgoing {
  dev.fCnt++;
  const time = new Date(ts).toISOString();
  const body = {
    deduplicationId: `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`,
    time,
    deviceInfo: {
      tenantId: TENANT,
      tenantName: 'community',
      applicationId: app.id,
      applicationName: app.name,
      deviceProfileId: app.id.replace(/.$/, 'f'),
      deviceProfileName: app.profile,
      deviceName: dev.name,
      devEui: dev.devEui,
      deviceClassEnabled: 'CLASS_A',
      tags: dev.tags,
    },
    devAddr: dev.devEui.slice(-8),
    adr: true,
    dr: 3,
    fCnt: dev.fCnt,
    fPort,
    confirmed: false,
    data: Buffer.from(bytes).toString('base64'),
    rxInfo: [
      {
        gatewayId: GATEWAYS[dev.fCnt % GATEWAYS.length],
        uplinkId: Math.floor(rng() * 65535),
        time,
        rssi: -60 - Math.floor(rng() * 50),
        snr: Math.round((rng() * 15 - 5) * 10) / 10,
        channel: dev.fCnt % 8,
        location: {},
        context: 'AAAAAA==',
        metadata: { region_config_id: 'cn470_10' },
        crcStatus: 'CRC_OK',
      },
    ],
    txInfo: { frequency: 470300000 + (dev.fCnt % 8) * 200000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 9, codeRate: 'CR_4_5' } } },
  };
  return {
    ts,
    topic: `application/${app.id}/device/${dev.devEui}/event/up`,
    body,
    tsKey: 'time',
    tsFormat: 'iso',
    required: 'deviceInfo',
    typed: 'data',
  };
}
