import type { Logger } from 'pino';
import type { LiveHub } from '../api/live.js';
import type { GatewayConfig } from '../config/schema.js';
import type { Ingestor } from '../pipeline/ingest.js';
import type { StalenessTracker } from '../pipeline/staleness.js';
import { enforceRetention, type RollupFold } from '../store/maintenance.js';
import type { Store } from '../store/store.js';
import type { GatewayMetrics } from './metrics.js';

/**
 * Samples folded into the rollups per turn of the event loop. A backlog (a burst, a restart)
 * is worked off slice by slice: in one go, 60,000 rows held the loop for 100-300 ms, and every
 * MQTT acknowledgement and commit waited behind it (test/bench/mqtt.ts latency).
 */
export const ROLLUP_SLICE = 2_000;
/**
 * Aggregates a rollup catch-up holds before it writes them: a write of this many upserts holds
 * the event loop about as long as a slice does (a few ms to 20 ms), and a busy community's 5 s of
 * samples fold into far fewer (one per series and bucket).
 */
export const ROLLUP_PENDING = 5_000;

/** Up to this many devices going quiet in one sweep are logged one by one. */
const STALE_LOG_EACH = 5;

/** How long health stays degraded after the disk cap dropped data a sink did not have. */
const LOSS_DEGRADES_MS = 3_600_000;

/** The store's periodic upkeep: rollups, retention and the disk cap, staleness, store metrics. */
export class Maintenance {
  private timers: NodeJS.Timeout[] = [];
  private running = false;
  private rolling = false;
  overCap = false;
  lastSize = 0;
  lastWal = 0;
  /** The last time the disk cap cost data some sink did not have yet. */
  lastLoss: { at: number; samples: number; events: number } | undefined;

  constructor(
    private readonly d: {
      store: Store;
      config: Readonly<GatewayConfig>;
      metrics: GatewayMetrics;
      log: Logger;
      staleness: StalenessTracker;
      ingestor: Ingestor;
      live: LiveHub;
    },
  ) {}

  start(): void {
    this.running = true;
    this.every(5_000, () => this.rollupsInSlices());
    this.every(2_000, () => this.sweepStale());
    this.every(60_000, () => this.retention());
    this.every(15_000, () => this.stats());
    this.stats();
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.d.log.error({ err }, 'store maintenance failed');
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /**
   * Catch the rollups up with the sample log, one slice per turn, the event loop free in between.
   * The slices fold into one RollupFold, written when the log is caught up, when maintenance
   * stops, or once ROLLUP_PENDING aggregates wait (memory stays bounded on a long backlog).
   */
  rollupsInSlices(done?: () => void): void {
    if (this.rolling) return;
    this.rolling = true;
    let fold: RollupFold | undefined;
    const step = () => {
      let n = 0;
      try {
        if (this.running) {
          fold ??= this.d.store.rollupFold();
          n = fold.read(ROLLUP_SLICE);
        }
        const more = n >= ROLLUP_SLICE && this.running;
        if (fold && this.d.store.isOpen && (!more || fold.pending >= ROLLUP_PENDING)) fold.flush();
      } catch (err) {
        this.d.log.error({ err }, 'store maintenance failed');
        n = 0;
      }
      if (n >= ROLLUP_SLICE && this.running) setImmediate(step);
      else {
        this.rolling = false;
        done?.();
      }
    };
    step();
  }

  sweepStale(): void {
    const now = this.d.store.clock.now();
    const quiet = this.d.staleness.sweep(now);
    let series = 0;
    for (const device of quiet) {
      const n = this.d.store.markStale(device);
      series += n;
      this.d.live.publish({ kind: 'stale', data: { device, since: now } });
      // A few devices are named one by one; a whole field of sensors going quiet at once (a
      // LoRaWAN gateway down) is one line, not hundreds.
      if (quiet.length <= STALE_LOG_EACH) this.d.log.warn({ device, series: n }, 'device went quiet: its values are marked stale');
    }
    if (quiet.length > STALE_LOG_EACH) {
      this.d.log.warn({ devices: quiet.length, first: quiet.slice(0, 10), series }, `${quiet.length} devices went quiet: their values are marked stale`);
    }
  }

  retention(): void {
    const s = this.d.config.store;
    const r = enforceRetention(this.d.store, {
      rawMs: s.retention.raw,
      rollupsMs: s.retention.rollups,
      eventsMs: s.retention.events,
      maxDiskBytes: s.max_disk,
      overflow: s.overflow,
    });
    if (r.expiredSamples) this.d.metrics.storeExpired.inc({ table: 'samples' }, r.expiredSamples);
    if (r.expiredEvents) this.d.metrics.storeExpired.inc({ table: 'events' }, r.expiredEvents);
    const dropped = (reason: string, n: number) => n && this.d.metrics.storeDropped.inc({ reason }, n);
    dropped('max_disk_sent', r.droppedSent);
    dropped('max_disk_events_sent', r.droppedEventsSent);
    dropped('max_disk', r.droppedUnsent);
    dropped('max_disk_events', r.droppedEventsUnsent);
    if (r.droppedSent || r.droppedEventsSent) {
      this.d.log.warn(
        { samples: r.droppedSent, events: r.droppedEventsSent, bytes: r.sizeBytes, max: s.max_disk },
        'store reached max_disk: oldest history dropped early (every sink already had it)',
      );
    }
    if (r.droppedUnsent || r.droppedEventsUnsent) {
      this.lastLoss = { at: this.d.store.clock.now(), samples: r.droppedUnsent, events: r.droppedEventsUnsent };
      this.d.log.error(
        { samples: r.droppedUnsent, events: r.droppedEventsUnsent, bytes: r.sizeBytes, max: s.max_disk },
        'store reached max_disk: oldest samples and events dropped before every sink had them',
      );
      this.d.live.publish({
        kind: 'alert',
        data: { kpi: 'store_max_disk', status: 'raised', value: r.sizeBytes, target: s.max_disk, dropped: r.droppedUnsent, dropped_events: r.droppedEventsUnsent },
      });
    }
    if (r.overCap !== this.overCap) {
      this.overCap = r.overCap;
      if (s.overflow === 'reject_new') this.d.ingestor.setFull(r.overCap);
      if (r.overCap) this.d.log.error({ bytes: r.sizeBytes, max: s.max_disk, policy: s.overflow }, 'store is over max_disk');
      else this.d.log.info({ bytes: r.sizeBytes, max: s.max_disk }, 'store is back under max_disk');
    }
    this.lastSize = r.sizeBytes;
  }

  /** Over the cap now, or it cost unsent data within the last hour: health says degraded. */
  get degraded(): boolean {
    return this.overCap || (this.lastLoss !== undefined && this.d.store.clock.now() - this.lastLoss.at < LOSS_DEGRADES_MS);
  }

  stats(): void {
    this.lastSize = this.d.store.sizeBytes();
    this.d.metrics.storeBytes.set(this.lastSize);
    this.lastWal = this.d.store.walBytes();
    this.d.metrics.walBytes.set(this.lastWal);
    const max = this.d.store.maxSeq();
    this.d.metrics.storeRows.set({ table: 'samples_seq' }, max.samples);
    this.d.metrics.storeRows.set({ table: 'events_seq' }, max.events);
  }

  stop(): void {
    this.running = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }
}
