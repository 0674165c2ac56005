import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { SinkConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import { redactSecrets } from '../model/redact.js';
import type { Cursor, Store, StoredEvent, StoredSample } from '../store/store.js';
import type { DeadLetters } from './dead-letters.js';
import { SinkWriteError, transportError } from './errors.js';
import type { SinkMetrics } from './metrics.js';
import type { ItemRejection, SinkItem, SinkWriter } from './types.js';

/** Records and their encodings, side by side (index i of one is index i of the other). */
interface Entries {
  items: SinkItem[];
  encoded: unknown[];
}

/**
 * Records read after a cursor (`from`, exclusive, to `to`, inclusive) and encoded: sent as one
 * request, then the cursor moves to `to`. For a writer that packs, `entries` gives way to the
 * packed body once it is built.
 */
export interface Batch {
  from: Cursor;
  to: Cursor;
  samples: number;
  events: number;
  entries: Entries | undefined;
  packed?: unknown;
  unencodable: { item: SinkItem; reason: string }[];
}

/** What a sink is made of (SinkRunnerOptions adds its backoff's randomness). */
export interface SinkParts {
  id: string;
  config: SinkConfig;
  store: Store;
  writer: SinkWriter<unknown>;
  clock: Clock;
  log: Logger;
  metrics: SinkMetrics;
  deadLetters: DeadLetters;
}

export interface BatchesOptions extends SinkParts {
  /** True once the sink is stopping: nothing more is sent. */
  stopping: () => boolean;
}

/**
 * One sink's batches: read from the store's log and encoded, sent through the writer, and the
 * points a server refuses isolated (the batch halved until each refused point stands alone) and
 * dead-lettered, so they never block the sink. The runner owns the cursor, the window of batches
 * in flight and the backoff.
 */
export class Batches {
  private readonly eventLimit: number;

  constructor(private readonly o: BatchesOptions) {
    // Events get a share of every batch, so a long sample backlog cannot starve them.
    this.eventLimit = Math.max(1, Math.ceil(o.config.batch_size / 10));
  }

  /** The records after `from`, encoded (what cannot be encoded is set aside for the dead letters). */
  read(from: Cursor): Batch {
    const { store, config, writer } = this.o;
    const samples = store.samplesAfter(from.samples, config.batch_size);
    const events = store.eventsAfter(from.events, Math.max(this.eventLimit, config.batch_size - samples.length));
    const unencodable: Batch['unencodable'] = [];
    const entries = this.encode(samples, events, unencodable);
    const batch: Batch = {
      from,
      to: { samples: samples[samples.length - 1]?.seq ?? from.samples, events: events[events.length - 1]?.seq ?? from.events },
      samples: samples.length,
      events: events.length,
      entries,
      unencodable,
    };
    if (writer.pack && writer.sendPacked && entries.items.length) {
      batch.packed = writer.pack(entries.encoded);
      batch.entries = undefined;
    }
    return batch;
  }

  /** Send a batch; resolves once the server acknowledged it (refused points dead-lettered). */
  send(batch: Batch, signal: AbortSignal): Promise<void> {
    if (batch.entries) return batch.entries.items.length ? this.deliver(batch.entries, signal) : Promise.resolve();
    if (batch.packed === undefined) return Promise.resolve();
    const sendPacked = this.o.writer.sendPacked as NonNullable<SinkWriter<unknown>['sendPacked']>;
    // A packed batch in one request; refused points are isolated from its records, read again.
    return this.attempt(
      signal,
      () => sendPacked(batch.packed, signal).then(() => []),
      () => this.reread(batch),
    ).then(() => undefined);
  }

  deadLetter(item: SinkItem, payload: string, reason: string, status?: number): void {
    reason = redactSecrets(reason);
    this.o.deadLetters.add(this.o.id, item, payload, reason, status, this.o.clock.now());
    this.o.metrics.deadLetters.inc({ sink: this.o.id });
    this.o.log.warn({ sink: this.o.id, log: item.log, seq: item.record.seq, status }, `sink dead-lettered a record: ${reason}`);
  }

  private encode(samples: readonly StoredSample[], events: readonly StoredEvent[], unencodable: Batch['unencodable']): Entries {
    const items: SinkItem[] = [];
    const encoded: unknown[] = [];
    for (let i = 0; i < samples.length + events.length; i++) {
      const item: SinkItem = i < samples.length ? { log: 'samples', record: samples[i] as StoredSample } : { log: 'events', record: events[i - samples.length] as StoredEvent };
      try {
        const e = this.o.writer.encode(item);
        items.push(item);
        encoded.push(e);
      } catch (err) {
        unencodable.push({ item, reason: (err as Error).message });
      }
    }
    return { items, encoded };
  }

  /**
   * A batch's records again, for a packed batch whose points the server refused: the same log
   * range, read and encoded anew (records replaced or expired since are gone from it; what cannot
   * be encoded was dead-lettered when the batch was first read).
   */
  private reread(batch: Batch): Entries {
    const { store } = this.o;
    const samples = store.samplesAfter(batch.from.samples, batch.samples).filter((s) => s.seq <= batch.to.samples);
    const events = store.eventsAfter(batch.from.events, batch.events).filter((e) => e.seq <= batch.to.events);
    return this.encode(samples, events, []);
  }

  /** Send entries one request; points rejected one by one (MQTT 5) are dead-lettered. */
  private async deliver(entries: Entries, signal: AbortSignal): Promise<void> {
    const { items, encoded } = entries;
    const rejections = await this.attempt(signal, () => this.o.writer.send(encoded, signal), () => entries);
    for (const r of rejections ?? []) {
      const item = items[r.index];
      if (item) this.deadLetter(item, this.o.writer.text(encoded[r.index]), r.reason, r.status);
    }
  }

  /**
   * One request, timed. A refusal of points isolates them among `refused()`'s entries and
   * resolves undefined; any other failure throws (the runner backs off and resends).
   */
  private async attempt(signal: AbortSignal, send: () => Promise<ItemRejection[]>, refused: () => Entries): Promise<ItemRejection[] | undefined> {
    if (this.o.stopping() || signal.aborted) throw new SinkWriteError('SINK_ABORTED', 'stopping');
    const t0 = performance.now();
    let rejections: ItemRejection[];
    try {
      rejections = await send();
    } catch (err) {
      const e = transportError(err, this.o.config.timeout);
      if (!e.rejectsPoints) throw e;
      this.o.metrics.errors.inc({ sink: this.o.id, code: e.code });
      await this.isolate(refused(), e, signal);
      return undefined;
    }
    this.o.metrics.writeSeconds.observe({ sink: this.o.id }, (performance.now() - t0) / 1000);
    return rejections;
  }

  /** Entries whose request the server refused: halved until each refused one stands alone and is dead-lettered. */
  private async isolate(entries: Entries, e: SinkWriteError, signal: AbortSignal): Promise<void> {
    const { items, encoded } = entries;
    if (items.length === 0) return;
    if (items.length === 1) {
      this.deadLetter(items[0] as SinkItem, this.o.writer.text(encoded[0]), e.message, e.status);
      return;
    }
    const mid = items.length >>> 1;
    await this.deliver({ items: items.slice(0, mid), encoded: encoded.slice(0, mid) }, signal);
    await this.deliver({ items: items.slice(mid), encoded: encoded.slice(mid) }, signal);
  }
}
