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

/** Registered per protocol by the driver folders (see drivers/index.ts). */
export const profileSchemas = new Map<string, z.ZodType>();

export interface Profile {
  id: string;
  description: string;
  classes: string[];
  protocol: string;
  /** File it was loaded from. */
  file: string;
  /** The validated protocol-specific body (shape owned by the driver). */
  [key: string]: unknown;
}
