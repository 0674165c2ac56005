import { z } from 'zod';
import { duration, strict } from '../../gateway/model/zod-helpers.js';

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a local time "HH:MM"');

/** The `transit:` scenario section: the lines serving the community's stops and what goes wrong. */
export const transitScenarioSchema = strict({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(15080),
  /** The agency's time zone (default: the site's). */
  timezone: z.string().optional(),
  stops: z
    .array(
      strict({
        id: z.string().min(1),
        name: z.string().min(1),
        /** Metres east and north of the site's coordinates. */
        east: z.number().default(0),
        north: z.number().default(0),
      }),
    )
    .min(1),
  lines: z
    .array(
      strict({
        id: z.string().min(1),
        name: z.string().optional(),
        /** GTFS route_type: 3 bus, 1 metro, 0 tram. */
        route_type: z.number().int().default(3),
        stop: z.string().min(1),
        headsign: z.string().optional(),
        first: hhmm,
        /** Before `first`: the line runs overnight (a night bus from 22:30 to 05:30). */
        last: hhmm,
        headway: duration('10m'),
        /** Each trip's delay is drawn (seeded) up to this; a share of trips run on time. */
        delay_max: duration('3m'),
        on_time_share: z.number().min(0).max(1).default(0.5),
      }),
    )
    .min(1),
  /** Trips the feed cancels, as "<line>@HH:MM" (the departure at the community's stop), every day. */
  cancel: z.array(z.string().regex(/^[^@]+@([01]\d|2[0-3]):[0-5]\d$/)).default([]),
  /** A service alert on one line, active all day. */
  alert: strict({ line: z.string(), header_zh: z.string(), header_en: z.string(), effect: z.enum(['DETOUR', 'REDUCED_SERVICE', 'SIGNIFICANT_DELAYS', 'MODIFIED_SERVICE']).default('DETOUR') }).optional(),
});
export type TransitScenario = z.infer<typeof transitScenarioSchema>;
