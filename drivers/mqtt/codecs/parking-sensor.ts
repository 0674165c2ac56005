import type { Codec, UplinkInput, UplinkOutput } from './types.js';

/**
 * A common LoRaWAN parking-space sensor (spec/protocols.md, Parking):
 * fPort 1 status change, byte 0 bit 0 = occupied; fPort 2 heartbeat, byte 0 occupied,
 * byte 1 temperature int8 °C; fPort 3 start-up frame, occupied at byte 16.
 */
export const parkingSensorCodec: Codec = {
  name: 'parking-sensor',
  decodeUplink({ bytes, fPort }: UplinkInput): UplinkOutput {
    const b = (i: number) => bytes[i] ?? 0;
    switch (fPort) {
      case 1:
        if (bytes.length < 1) return { errors: ['fPort 1 needs 1 byte'] };
        return { data: { frame: 'status', occupied: (b(0) & 1) === 1 } };
      case 2: {
        if (bytes.length < 2) return { errors: ['fPort 2 needs 2 bytes'] };
        const t = b(1);
        return { data: { frame: 'heartbeat', occupied: (b(0) & 1) === 1, temperature: t > 127 ? t - 256 : t } };
      }
      case 3:
        if (bytes.length < 17) return { errors: [`fPort 3 start-up frame needs 17 bytes, got ${bytes.length}`] };
        return { data: { frame: 'startup', occupied: (b(16) & 1) === 1 } };
      default:
        return { errors: [`unexpected fPort ${fPort} (expected 1, 2 or 3)`] };
    }
  },
};

/** The frames a simulated sensor sends (the inverse of the codec, used by the simulators and golden tests). */
export function encodeParkingStatus(occupied: boolean): Uint8Array {
  return Uint8Array.of(occupied ? 1 : 0);
}

export function encodeParkingHeartbeat(occupied: boolean, temperature: number): Uint8Array {
  return Uint8Array.of(occupied ? 1 : 0, Math.round(temperature) & 0xff);
}
