import { z } from 'zod';

/**
 * A device profile: what a device model exposes and how to decode it, as data (YAML).
 * The protocol-specific part is owned by each driver folder; this file only fixes the envelope.
 * Adding a device model is one YAML file plus a golden case, no TypeScript.
 */
export const profileBase = {
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/),
  description: z.string(),
  /** Device classes a device using this profile may have. */
  classes: z.array(z.string()).min(1),
  /** Manufacturer/model notes and the sources of the register map. */
  vendor: z.string().optional(),
  source: z.string().optional(),
};

/**
 * What every loaded profile has, whatever its protocol. A driver sees its own profiles typed as
 * its schema infers them (`ModbusProfile`, `MqttProfile`, `OpcuaProfile`: `Loaded<z.infer<…>>`),
 * never as an untyped bag.
 */
export interface Profile {
  id: string;
  description: string;
  classes: string[];
  protocol: string;
  vendor?: string | undefined;
  source?: string | undefined;
  /** File it was loaded from. */
  file: string;
}

/** A profile body as its driver's schema parses it, plus the file it came from. */
export type Loaded<T> = T & { file: string };
