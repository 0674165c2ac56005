import { z } from 'zod';
import { duration, size, slug, strict } from '../../gateway/model/zod-helpers.js';

const httpUrl = z.string().refine((u) => /^https?:\/\/[^/\s]+(\/\S*)?$/.test(u), 'an http:// or https:// URL');

/**
 * A GTFS-Realtime source: the agency's TripUpdates feed (and, where it serves them apart, its
 * Alerts feed), polled over HTTP, with the static GTFS the feed refers to. Departures of the
 * devices' stops come from the static schedule moved by the realtime feed.
 */
export const gtfsRtConnectionSchema = strict({
  id: slug,
  protocol: z.literal('gtfs-rt'),
  /** TripUpdates feed URL (protobuf FeedMessage); it may also carry alerts. */
  trip_updates: httpUrl,
  /** Alerts feed URL, when the agency serves alerts on their own feed. */
  alerts: httpUrl.optional(),
  /**
   * The static GTFS the feed refers to, unpacked: a directory (relative to where the gateway
   * runs) or an http(s) URL under which stops.txt, routes.txt, trips.txt, stop_times.txt and
   * calendar.txt / calendar_dates.txt are served. Re-read every `static_refresh`.
   */
  static: z.string().min(1),
  static_refresh: duration('1d'),
  /** Time zone of the schedule when agency.txt has none. */
  timezone: z.string().default('Asia/Shanghai'),
  /** Extra request headers (an agency's API key), usually `${ENV}`. */
  headers: z.record(z.string(), z.string()).default({}),
  poll: duration('30s'),
  timeout: duration('10s'),
  /** Longest wait between retries after failed fetches (doubling from `poll`). */
  backoff_max: duration('5m'),
  /** A feed whose header time or last good fetch is older than this is stale: departures fall back to the schedule, flagged. */
  stale_after: duration('3m'),
  /** Bodies larger than this are refused unread (a city's whole TripUpdates feed is a few MB). */
  max_bytes: size('8MB'),
  max_entities: z.number().int().min(1).max(1_000_000).default(100_000),
  /** Largest static file read (stop_times.txt of a large city is a few hundred MB). */
  static_max_bytes: size('512MB'),
  /** How far ahead departures are looked for. */
  horizon: duration('3h'),
  /** A next departure this late marks the stop `delayed`. */
  delayed_after: duration('5m'),
  /** A departure is settled (its `departure` event written) this long after its predicted time. */
  settle_after: duration('1m'),
  /** Preferred language of alert texts. */
  language: z.string().default('zh'),
});

export type GtfsRtConnection = z.infer<typeof gtfsRtConnectionSchema>;
