/** The canonical data model (spec/metrics.md). Nothing but these shapes reaches the store. */

export type Quality = 'good' | 'uncertain' | 'bad';

/** Why a value is not good. Open set, but these are the ones the gateway itself produces. */
export type QualityReason =
  | 'stale'
  | 'out_of_range'
  | 'counter_reset'
  | 'counter_rollover'
  | 'decode_error'
  | 'device_offline'
  | 'not_implemented'
  | 'precision_loss'
  | 'unit_mismatch'
  | (string & {});

export type SampleValue = number | boolean | string;

/** One value of one series at one instant, in the catalog unit. */
export interface Sample {
  site: string;
  device: string;
  class: string;
  metric: string;
  /** Milliseconds since the Unix epoch, UTC. */
  ts: number;
  value: SampleValue | null;
  quality: Quality;
  reason?: QualityReason;
}

export type EventAttributes = Record<string, string | number | boolean>;

/** Something that happened at an instant (vehicle entry, parcel deposited…). */
export interface GatewayEvent {
  site: string;
  device: string;
  class: string;
  type: string;
  ts: number;
  attributes: EventAttributes;
}

/**
 * What a driver hands to the pipeline after decoding by profile: a value in the
 * device's native unit. `value: null` means "no value" and must carry a bad quality.
 */
export interface Reading {
  device: string;
  metric: string;
  value: SampleValue | bigint | null;
  /** Unit the value is in; converted to the catalog unit by the pipeline. Omitted = catalog unit. */
  unit?: string;
  /** Source timestamp (ms) when the device gave one, else the receive time. */
  ts: number;
  quality?: Quality;
  reason?: QualityReason;
}

/** An event as decoded by a driver; personal attributes are still raw here and never leave the pipeline raw. */
export interface EventReading {
  device: string;
  type: string;
  ts: number;
  attributes: EventAttributes;
}

/** A rejected input, counted by reason in /metrics and logged (rate-limited). */
export interface Rejection {
  device?: string;
  connection?: string;
  reason: string;
  detail: string;
}

/** What a driver hands the pipeline in one go (ctx.ingest): decoded readings and events. */
export interface IngestBatch {
  readings?: Reading[];
  events?: EventReading[];
}
