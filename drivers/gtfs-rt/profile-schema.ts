import { z } from 'zod';
import { profileBase } from '../profiles/schema.js';

/**
 * A departure board as data. A GTFS-Realtime stop has no vendor register map: the profile names
 * the class and which of the board's values it reports (the catalog's transit_stop metrics).
 */
export const GTFS_RT_METRICS = ['next_departure', 'following_departure', 'delay', 'service_status'] as const;

export const gtfsRtProfileSchema = z.strictObject({
  ...profileBase,
  protocol: z.literal('gtfs-rt'),
  metrics: z.array(z.enum(GTFS_RT_METRICS)).min(1).default([...GTFS_RT_METRICS]),
});
export type GtfsRtProfile = z.infer<typeof gtfsRtProfileSchema>;
