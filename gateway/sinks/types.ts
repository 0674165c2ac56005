import type { SinkConfig } from '../config/schema.js';
import type { StoredEvent, StoredSample } from '../store/store.js';

/** One record of the store's log on its way out. */
export type SinkItem = { log: 'samples'; record: StoredSample } | { log: 'events'; record: StoredEvent };

/** A point the remote end refused for good (MQTT 5 negative PUBACK…): dead-lettered, not retried. */
export interface ItemRejection {
  index: number;
  reason: string;
  status?: number;
}

/**
 * The protocol half of a sink: how a record is encoded and how a batch is delivered. `send`
 * resolves only once the remote end has acknowledged every entry it does not list as rejected,
 * and throws a SinkWriteError otherwise; the runner owns cursors, batching and retries.
 */
export interface SinkWriter<E> {
  readonly type: SinkConfig['type'];
  /** Throws EncodeError when the record cannot be expressed. */
  encode(item: SinkItem): E;
  /** What a dead letter keeps of an encoded record. */
  text(encoded: E): string;
  send(batch: readonly E[], signal: AbortSignal): Promise<ItemRejection[]>;
  /**
   * Writers that send a batch as one request body (InfluxDB) build that body as soon as the
   * batch is read: only the body then waits on the wire, not every record and its encoding
   * (a backlog keeps several batches in flight). `sendPacked` resolves once the whole body is
   * acknowledged and throws a SinkWriteError otherwise; when the server refuses points, the
   * runner reads the batch's records again and isolates them one `send` at a time.
   */
  pack?(batch: readonly E[]): unknown;
  sendPacked?(packed: unknown, signal: AbortSignal): Promise<void>;
  /**
   * Full batches a backlog may have on the wire at once (default 1). Only for writes that are
   * idempotent on resend (InfluxDB: same series, same timestamp): after a failure the batches
   * from the first unacknowledged one are sent again, including any that landed meanwhile.
   */
  readonly inFlight?: number;
  /** False while the link is down (MQTT): the runner waits instead of sending into a void. */
  ready?(): boolean;
  start?(): Promise<void> | void;
  stop?(): Promise<void> | void;
}
