import { z } from 'zod';
import { profileBase } from '../profiles/schema.js';
import { mqttCommandSchema } from './commands.js';

/**
 * The MQTT part of a device profile (YAML in drivers/profiles/, `protocol: mqtt`).
 * A profile says where a device publishes (topic template), how the message is wrapped
 * (plain JSON, ChirpStack v4, The Things Stack v3), which codec decodes binary LoRaWAN
 * payloads, and how JSON fields map onto catalog metrics and events.
 *
 * Paths: `a.b[0].c`, `list[?key=value].field`; `$topic.<name>` reads a named topic level,
 * `$meta.<name>` an envelope field (fPort, fCnt, devEui, deviceName, applicationId, tags.*).
 */

const scalar = z.union([z.string(), z.number(), z.boolean()]);

export const timestampSpec = z.strictObject({
  path: z.string(),
  /** auto: numbers below 1e11 are seconds, else milliseconds; strings are ISO-8601 / RFC 3339. */
  format: z.enum(['auto', 'epoch_ms', 'epoch_s', 'iso']).default('auto'),
});

const condition = z.strictObject({
  path: z.string(),
  equals: scalar.optional(),
  in: z.array(scalar).optional(),
  exists: z.boolean().optional(),
});

const when = z.union([condition, z.array(condition).min(1)]);

export const readingMap = z.strictObject({
  metric: z.string(),
  path: z.string(),
  /** Native unit of the value; the pipeline converts it to the catalog unit. */
  unit: z.string().optional(),
  /** Path of a unit given by the message itself (OCPP sampledValue.unit); falls back to `unit`. */
  unit_path: z.string().optional(),
  scale: z.number().optional(),
  offset: z.number().optional(),
  /** Raw value (as text) → value: enum names, booleans from strings or codes. */
  map: z.record(z.string(), scalar).optional(),
  /** Accept a number written as a string ("12.5"), as OCPP meter values are. */
  numeric_string: z.boolean().default(false),
  /** A message without this field is rejected (`missing_field`), instead of simply not giving it. */
  required: z.boolean().default(false),
  /** One reading per element of this array; `path`, `unit_path` and `timestamp` are then relative to the element. */
  each: z.string().optional(),
  timestamp: timestampSpec.optional(),
  when: when.optional(),
});

const attributeMap = z.union([
  z.strictObject({
    path: z.string(),
    map: z.record(z.string(), scalar).optional(),
    /** Used when the message does not carry the field (a controller that only reads cards). */
    default: scalar.optional(),
  }),
  z.strictObject({ value: scalar }),
]);

export const eventMap = z.strictObject({
  type: z.string(),
  when: when.optional(),
  timestamp: timestampSpec.optional(),
  attributes: z.record(z.string(), attributeMap).default({}),
});

export const mqttProfileBody = {
  envelope: z.enum(['json', 'chirpstack', 'ttn']).default('json'),
  /** Topic of a configured device; `{device}` is its id, other `{name}`s come from device options or match any level. */
  topic: z.string().optional(),
  /** TS013 codec (drivers/mqtt/codecs) for binary LoRaWAN payloads the network server did not decode. */
  codec: z.string().optional(),
  /** Use the network server's decoded object (`object`, `decoded_payload`) when present. */
  prefer_decoded: z.boolean().default(true),
  /** Source timestamp of the whole message (else the envelope's time, else the receive time); the first present of a list wins. */
  timestamp: z.union([timestampSpec, z.array(timestampSpec).min(1)]).optional(),
  readings: z.array(readingMap).default([]),
  events: z.array(eventMap).default([]),
  /** Generic JSON: `{values: {metric: value}, events: [{type, ts?, attributes}]}` with catalog names as they are. */
  passthrough: z
    .strictObject({ values: z.string().optional(), events: z.string().optional() })
    .optional(),
  /** Messages larger than this are rejected (`oversize`). */
  max_payload: z.number().int().positive().default(64 * 1024),
  /**
   * What to do with a message older than the device's newest. `keep` (the default): late data is
   * data (a handheld's batch sync, a logger's replay after an outage) and is stored at its own
   * time; copies are recognised by identity, not by order. `reject`: refused as `out_of_order`
   * when older than `reorder_window_s`, for a device whose protocol makes a late message
   * meaningless (a state it only ever sends whole). `accept` is the old spelling of `keep`.
   */
  out_of_order: z.enum(['keep', 'reject', 'accept']).default('keep'),
  /**
   * With `out_of_order: reject`: seconds a message may be older than the device's newest and
   * still count as in order (brokers keep order per topic only, and a publisher that reconnects
   * resends what was in flight after newer messages).
   */
  reorder_window_s: z.number().min(0).default(300),
  /** What a device can be told (drivers/core/commands.ts): a JSON message on its command topic. */
  commands: z.array(mqttCommandSchema).default([]),
};

export const mqttProfileSchema = z
  .strictObject({
    ...profileBase,
    protocol: z.literal('mqtt'),
    ...mqttProfileBody,
  })
  .refine((p) => p.readings.length > 0 || p.events.length > 0 || p.passthrough !== undefined, {
    message: 'a profile needs readings, events or passthrough',
  });

export type MqttProfile = z.infer<typeof mqttProfileSchema>;
export type ReadingMap = z.infer<typeof readingMap>;
export type EventMap = z.infer<typeof eventMap>;
export type TimestampSpec = z.infer<typeof timestampSpec>;
export type Condition = z.infer<typeof condition>;
