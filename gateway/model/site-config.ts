import { z } from 'zod';
import { duration, slug, strict } from './zod-helpers.js';

/**
 * The parts of the config file a driver sees: a connection entry (its id and protocol; the rest
 * belongs to the driver's own schema), a device, a discovery rule. They live in the model, below
 * config and drivers alike, so a driver imports only the model (.dependency-cruiser.cjs); the
 * config file's schema (gateway/config/schema.ts) is built from them.
 *
 * A connection: its id and protocol only. The rest of an entry belongs to the driver of that
 * protocol, whose own schema (drivers/<protocol>/connection-schema.ts) gateway/site applies.
 */
export const connectionEntry = z.looseObject({ id: slug, protocol: z.string() });

/** A device: where it is connected, which profile reads it, its class, tags and options. */
export const deviceSchema = strict({
  id: slug,
  name: z.string().optional(),
  class: z.string(),
  connection: slug,
  profile: z.string(),
  /** Modbus unit id (slave address). */
  unit: z.number().int().min(0).max(255).optional(),
  /** A meter's address on an RS-485 bus, as on its label (DL/T 645: 12 digits, CJ/T 188: 14). */
  address: z.string().optional(),
  /** OCPP: the charge point's identity in its URL (default: the device id); `options.connector` picks the connector (1). */
  charge_point_id: z.string().optional(),
  poll: duration().optional(),
  /** Silence after which this device's values are marked stale (default: pipeline.stale_after or 3 polls). */
  stale_after: duration().optional(),
  /** MQTT: topic override for this device (else the profile's template). */
  topic: z.string().optional(),
  /** Static tags carried on every series (building, water_type, role…). */
  tags: z.record(z.string(), z.string()).default({}),
  /** Profile options (e.g. `invert: true` for a meter with the opposite sign). */
  options: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}),
  enabled: z.boolean().default(true),
});

export const discoverSchema = strict({
  connection: slug,
  /** MQTT: the topic filter with {fields} (an OCPP rule has none: the charge point id is the field). */
  topic: z.string().optional(),
  envelope: z.enum(['json', 'chirpstack', 'ttn']).default('json'),
  profile: z.string(),
  class: z.string(),
  /** Device id template from topic fields and payload paths, e.g. "space-{devEui}". */
  id: z.string(),
  tags: z.record(z.string(), z.string()).default({}),
  /** Silence after which a discovered device is stale (LoRaWAN meters often report hourly). */
  stale_after: duration().optional(),
  /** Upper bound on devices this rule may create (protects the store from a topic flood). */
  max_devices: z.number().int().positive().default(10_000),
});

export type ConnectionConfig = z.infer<typeof connectionEntry>;
export type DeviceConfig = z.infer<typeof deviceSchema>;
export type DiscoverConfig = z.infer<typeof discoverSchema>;
