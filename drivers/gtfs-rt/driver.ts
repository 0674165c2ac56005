import { redactSecrets } from '../../gateway/model/redact.js';
import type { BoundDevice, Driver, DriverContext, DriverHealth, LinkState } from '../core/driver.js';
import type { Loaded } from '../profiles/schema.js';
import type { GtfsRtConnection } from './connection-schema.js';
import { decodeFeed, FeedError, type DecodedFeed } from './feed.js';
import { fetchBody, FetchError, staticReader } from './http.js';
import type { GtfsRtProfile } from './profile-schema.js';
import { BoardPublisher, type FeedState, type StopDevice } from './publish.js';
import { loadSchedule, type GtfsSchedule } from './static-gtfs.js';
import { stopOf } from './stops.js';

const STATIC_RETRY_MS = 10 * 60_000;

/**
 * Polls a GTFS-Realtime source and publishes its stops' departure boards. One poll fetches the
 * TripUpdates feed (and the Alerts feed when it is apart), decodes it whole or refuses it
 * (counted, logged, the previous feed kept until it is stale), then publishes every board. The
 * static schedule is read at the first poll and every `static_refresh`; until it is read the
 * devices are offline and the driver retries with backoff. Nothing thrown reaches the gateway.
 */
export class GtfsRtDriver implements Driver {
  readonly connectionId: string;
  private readonly c: GtfsRtConnection;
  private readonly ctx: DriverContext;
  private readonly devices: StopDevice[];
  private schedule: GtfsSchedule | undefined;
  private scheduleAt = 0;
  private publisher: BoardPublisher | undefined;
  private feed: DecodedFeed | undefined;
  /** Clock time of the last feed that decoded. */
  private feedAt: number | undefined;
  private state: LinkState = 'stopped';
  private stopped = false;
  private error: string | undefined;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private running: Promise<void> | undefined;
  private readonly counters: Record<string, number> = { polls: 0, feeds_decoded: 0, feeds_refused: 0, fetch_errors: 0, static_loads: 0 };

  constructor(args: { connection: GtfsRtConnection; devices: BoundDevice<Loaded<GtfsRtProfile>>[]; ctx: DriverContext }) {
    this.c = args.connection;
    this.connectionId = args.connection.id;
    this.ctx = args.ctx;
    this.devices = args.devices.filter((d) => d.config.enabled).map((d) => ({ id: d.config.id, stop: stopOf(d.config), metrics: new Set(d.profile.metrics) }));
  }

  start(): Promise<void> {
    if (this.state !== 'stopped') return Promise.resolve();
    this.stopped = false;
    this.state = 'connecting';
    this.abort = new AbortController();
    this.schedulePoll(0);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.state = 'stopped';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    await this.running?.catch(() => undefined);
  }

  /** One poll (the timer calls it; tests call it with a manual clock). Never rejects. */
  async poll(): Promise<void> {
    this.counters['polls']!++;
    const now = this.ctx.clock.now();
    try {
      if (!this.schedule) await this.loadStatic(now);
      else if (now - this.scheduleAt >= this.c.static_refresh) await this.refreshStatic(now);
      await this.fetchFeeds();
      this.failures = 0;
      if (!this.stopped) this.state = 'connected';
      this.error = undefined;
    } catch (err) {
      this.failures++;
      this.error = (err as Error).message;
      if (!this.stopped) this.state = 'backoff';
      const code = (err as { code?: string }).code ?? 'error';
      this.ctx.metrics.linkError(code);
      // A body that came but cannot be taken is refused (counted by reason); a peer that did not answer is a link error.
      if (err instanceof FeedError || (err instanceof FetchError && err.code === 'FEED_TOO_LARGE')) {
        this.counters['feeds_refused']!++;
        this.ctx.reject({ connection: this.c.id, reason: code.toLowerCase(), detail: err.message });
      } else this.counters['fetch_errors']!++;
      this.ctx.log.warn({ connection: this.c.id, code, err: (err as Error).message }, 'gtfs-rt poll failed');
    }
    if (this.schedule && this.publisher) {
      const at = this.ctx.clock.now();
      await this.ctx.ingest(this.publisher.update(at, this.schedule, this.feed, this.feedState(at)));
    }
  }

  private async loadStatic(now: number): Promise<void> {
    const read = staticReader(this.c.static, { timeoutMs: this.c.timeout * 6, maxBytes: this.c.static_max_bytes, headers: this.c.headers });
    const ids = new Set(this.devices.flatMap((d) => d.stop.stops));
    const s = await loadSchedule(read, ids);
    this.schedule = s;
    this.scheduleAt = now;
    this.counters['static_loads']!++;
    this.publisher ??= new BoardPublisher(this.devices, { tz: s.timezone ?? this.c.timezone, horizon: this.c.horizon, delayedAfter: this.c.delayed_after, settleAfter: this.c.settle_after }, now);
    this.ctx.log.info({ connection: this.c.id, stops: ids.size, trips: s.trips.size }, 'static GTFS loaded');
  }

  /** A failed re-read keeps the schedule in hand (the feed still moves it) and tries again later. */
  private async refreshStatic(now: number): Promise<void> {
    try {
      await this.loadStatic(now);
    } catch (err) {
      this.counters['static_errors'] = (this.counters['static_errors'] ?? 0) + 1;
      this.scheduleAt = now - this.c.static_refresh + STATIC_RETRY_MS;
      this.ctx.log.warn({ connection: this.c.id, err: (err as Error).message }, 'static GTFS re-read failed; keeping the schedule in hand');
    }
  }

  private async fetchFeeds(): Promise<void> {
    const o = { timeoutMs: this.c.timeout, maxBytes: this.c.max_bytes, headers: this.c.headers, ...(this.abort ? { signal: this.abort.signal } : {}) };
    const limits = { maxBytes: this.c.max_bytes, maxEntities: this.c.max_entities };
    const t0 = Date.now();
    const body = await fetchBody(this.c.trip_updates, o);
    this.ctx.metrics.pollLatency(this.c.id, (Date.now() - t0) / 1000);
    if (body === undefined) throw new FetchError('FEED_HTTP_STATUS', `${this.c.trip_updates} answered HTTP 404`);
    const feed = decodeFeed(body, limits, this.c.language);
    if (this.c.alerts) {
      const a = await fetchBody(this.c.alerts, o);
      if (a === undefined) throw new FetchError('FEED_HTTP_STATUS', `${this.c.alerts} answered HTTP 404`);
      feed.alerts.push(...decodeFeed(a, limits, this.c.language).alerts);
    }
    this.ctx.metrics.messages();
    this.counters['feeds_decoded']!++;
    this.feed = feed;
    this.feedAt = this.ctx.clock.now();
  }

  private feedState(now: number): FeedState {
    if (this.feedAt === undefined || !this.feed) return { fresh: false, reason: 'feed_missing' };
    const ts = Math.min(this.feedAt, this.feed.ts ?? this.feedAt);
    return now - ts > this.c.stale_after ? { fresh: false, reason: 'feed_stale' } : { fresh: true };
  }

  private schedulePoll(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.poll().finally(() => {
        // After failures the wait doubles from the poll period up to backoff_max.
        const wait = this.failures === 0 ? this.c.poll : Math.min(this.c.backoff_max, this.c.poll * 2 ** Math.min(this.failures, 20));
        // Wall-clock periods, as every driver polls: an accelerated simulation does not make an agency's feed faster.
        this.schedulePoll(wait);
      });
    }, delay);
    this.timer.unref?.();
  }

  health(): DriverHealth {
    const now = this.ctx.clock.now();
    const st = this.feedState(now);
    return {
      connection: this.c.id,
      protocol: 'gtfs-rt',
      state: this.state,
      ...(this.error ? { error: this.error } : {}),
      devices: this.devices.map((d) => ({ id: d.id, state: !this.schedule ? (this.failures ? 'offline' : 'unknown') : st.fresh ? 'online' : 'offline', ...(!st.fresh ? { error: st.reason } : {}), ...(this.feedAt !== undefined ? { lastSeen: this.feedAt } : {}) })),
      counters: { ...this.counters },
    };
  }

  explain(deviceId: string): string[] {
    const d = this.devices.find((x) => x.id === deviceId);
    if (!d) return [];
    return [`GTFS stops ${d.stop.stops.join(', ')}${d.stop.routes.length ? ` (routes ${d.stop.routes.join(', ')})` : ''}: ${redactSecrets(this.c.trip_updates)} every ${this.c.poll / 1000}s, schedule from ${redactSecrets(this.c.static)}`];
  }
}
