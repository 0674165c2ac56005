import type { Codec, UplinkInput, UplinkOutput } from './types.js';

/**
 * A LoRaWAN ultrasonic water meter (spec/protocols.md, Water meters): fPort 100, 51 bytes.
 * byte 0 frame version 0x01; 1–4 uint32 LE Unix time (of the logged volume); 5 status;
 * 6–9 uint32 LE volume in litres at the log time; from byte 10, 23 hourly deltas of 14 bits,
 * little-endian bit order, in litres. Current volume = log volume + Σ deltas.
 *
 * The spec does not say which instant each delta closes; we read delta k (1-based) as the
 * volume of hour k after the log time, so the meter's hourly profile becomes 24 volume points
 * (log time … log time + 23 h) and 23 hourly flows. Re-sent windows overlap and are idempotent
 * in the store (same series and timestamp).
 */
export const WATER_METER_PORT = 100;
export const WATER_METER_LENGTH = 51;
const DELTAS = 23;
const DELTA_BITS = 14;

export interface WaterMeterAlarms {
  low_battery: boolean;
  permanent_error: boolean;
  temporary_error: boolean;
  dry: boolean;
  backflow: boolean;
  burst: boolean;
  leak: boolean;
  low_temperature: boolean;
}

export function decodeWaterStatus(s: number): WaterMeterAlarms {
  const backflow = (s & 0x60) === 0x60;
  const burst = (s & 0xa0) === 0xa0;
  return {
    low_battery: (s & 0x04) !== 0,
    permanent_error: (s & 0x08) !== 0,
    dry: s === 0x10,
    temporary_error: (s & 0x10) !== 0 && s !== 0x10,
    backflow,
    burst,
    leak: (s & 0x20) !== 0 && !backflow && !burst,
    low_temperature: (s & 0x80) !== 0 && !burst,
  };
}

export const loraWaterMeterCodec: Codec = {
  name: 'lorawan-water-meter',
  decodeUplink({ bytes, fPort }: UplinkInput): UplinkOutput {
    if (fPort !== WATER_METER_PORT) return { errors: [`unexpected fPort ${fPort} (expected ${WATER_METER_PORT})`] };
    if (bytes.length !== WATER_METER_LENGTH)
      return { errors: [`expected ${WATER_METER_LENGTH} bytes, got ${bytes.length}`] };
    const b = (i: number) => bytes[i] ?? 0;
    if (b(0) !== 0x01) return { errors: [`unknown frame version 0x${b(0).toString(16).padStart(2, '0')}`] };
    const u32 = (i: number) => (b(i) | (b(i + 1) << 8) | (b(i + 2) << 16)) + b(i + 3) * 0x1000000;
    const time = u32(1);
    const status = b(5);
    const logVolume = u32(6);
    const deltas: number[] = [];
    for (let k = 0; k < DELTAS; k++) {
      let v = 0;
      for (let bit = 0; bit < DELTA_BITS; bit++) {
        const j = k * DELTA_BITS + bit;
        v |= ((b(10 + (j >> 3)) >> (j & 7)) & 1) << bit;
      }
      deltas.push(v);
    }
    const hourly: { time: number; volume_l: number; flow_l_h?: number }[] = [{ time, volume_l: logVolume }];
    let vol = logVolume;
    deltas.forEach((d, k) => {
      vol += d;
      hourly.push({ time: time + (k + 1) * 3600, volume_l: vol, flow_l_h: d });
    });
    return {
      data: { version: 1, time, status, alarms: decodeWaterStatus(status), log_volume_l: logVolume, volume_l: vol, deltas, hourly },
    };
  },
};

export interface WaterMeterFrame {
  /** Unix seconds of the logged volume. */
  time: number;
  status: number;
  logVolumeL: number;
  /** 23 hourly deltas in litres, each 0…16383. */
  deltas: readonly number[];
}

/** Build a frame (simulators, golden vectors). Throws on values the format cannot carry. */
export function encodeWaterMeterFrame(f: WaterMeterFrame): Uint8Array {
  if (f.deltas.length !== DELTAS) throw new RangeError(`need ${DELTAS} deltas`);
  const out = new Uint8Array(WATER_METER_LENGTH);
  const putU32 = (i: number, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uint32 out of range: ${v}`);
    out[i] = v & 0xff;
    out[i + 1] = (v >>> 8) & 0xff;
    out[i + 2] = (v >>> 16) & 0xff;
    out[i + 3] = (v >>> 24) & 0xff;
  };
  out[0] = 0x01;
  putU32(1, f.time);
  out[5] = f.status & 0xff;
  putU32(6, f.logVolumeL);
  f.deltas.forEach((d, k) => {
    if (!Number.isInteger(d) || d < 0 || d >= 1 << DELTA_BITS) throw new RangeError(`delta out of range: ${d}`);
    for (let bit = 0; bit < DELTA_BITS; bit++) {
      const j = k * DELTA_BITS + bit;
      if ((d >> bit) & 1) out[10 + (j >> 3)] = (out[10 + (j >> 3)] ?? 0) | (1 << (j & 7));
    }
  });
  return out;
}

/** Status byte for the alarms a simulated meter raises (the inverse of decodeWaterStatus). */
export function encodeWaterStatus(a: Partial<Pick<WaterMeterAlarms, 'leak' | 'burst' | 'backflow' | 'dry' | 'low_battery'>>): number {
  if (a.dry) return 0x10;
  let s = 0;
  if (a.burst) s |= 0xa0;
  else if (a.backflow) s |= 0x60;
  else if (a.leak) s |= 0x20;
  if (a.low_battery) s |= 0x04;
  return s;
}
