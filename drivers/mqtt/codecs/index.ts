import { loraWaterMeterCodec } from './lorawan-water-meter.js';
import { parkingSensorCodec } from './parking-sensor.js';
import type { Codec } from './types.js';

export type { Codec, UplinkInput, UplinkOutput } from './types.js';

/** Payload codecs by name, as profiles name them (`codec: parking-sensor`). */
export const CODECS: ReadonlyMap<string, Codec> = new Map(
  [parkingSensorCodec, loraWaterMeterCodec].map((c) => [c.name, c]),
);

export function getCodec(name: string): Codec | undefined {
  return CODECS.get(name);
}
