import type { EventReading, IngestBatch, Quality, Reading } from '../../gateway/model/types.js';
import { boardAt, departures, indexFeed, type BoardStop, type Departure } from './board.js';
import type { DecodedFeed } from './feed.js';
import type { GtfsSchedule } from './static-gtfs.js';

/**
 * Turns the boards of the connection's stops into readings and events, remembering what it has
 * already said: each passed departure gives one `departure` event (ran with its delay, cancelled,
 * skipped, or unknown when no fresh feed covered it), each newly cancelled upcoming departure one
 * `trip_cancelled`, each newly active alert one `service_alert`. Departures before the driver
 * started are not judged (it did not see them).
 */

export interface StopDevice {
  id: string;
  stop: BoardStop;
  metrics: ReadonlySet<string>;
}

export interface PublishOptions {
  tz: string;
  horizon: number;
  delayedAfter: number;
  settleAfter: number;
}

/** How far back departures are still settled (a departure's delay can hold its time back this far). */
const LOOKBACK = 3 * 3_600_000;
const FORGET = 2 * 86_400_000;

export type FeedState = { fresh: true } | { fresh: false; reason: 'feed_missing' | 'feed_stale' };

export class BoardPublisher {
  private readonly settled = new Map<string, number>();
  private readonly announced = new Map<string, number>();
  private readonly alertsSeen = new Map<string, number>();
  private last: number | undefined;

  constructor(
    private readonly devices: readonly StopDevice[],
    private readonly o: PublishOptions,
    private readonly since: number,
  ) {}

  update(now: number, s: GtfsSchedule, feed: DecodedFeed | undefined, state: FeedState): IngestBatch {
    // A stale feed says nothing about now: departures fall back to the schedule, flagged.
    const rt = indexFeed(state.fresh ? feed : undefined);
    const alerts = state.fresh ? (feed?.alerts ?? []) : [];
    const readings: Reading[] = [];
    const events: EventReading[] = [];
    // Back to before the previous update, so departures between two far-apart polls (an
    // accelerated simulation, a long outage) are still judged; never further than FORGET.
    const from = Math.max(now - FORGET, Math.min(now, this.last ?? now) - LOOKBACK);
    this.last = now;
    const quality: { quality?: Quality; reason?: string } = state.fresh ? {} : { quality: 'uncertain', reason: state.reason };
    for (const d of this.devices) {
      const list = departures(s, this.o.tz, d.stop, rt, from, now + this.o.horizon);
      const routesAt = new Set(list.map((x) => x.route));
      const b = boardAt(list, alerts, d.stop, routesAt, now, { delayedAfter: this.o.delayedAfter });
      const r = (metric: string, value: number | string | null) => {
        if (!d.metrics.has(metric)) return;
        // No departure within the horizon is a value the board cannot give, and says why.
        const q = value === null && state.fresh ? { quality: 'bad' as const, reason: 'no_departure' } : quality;
        readings.push({ device: d.id, metric, value, ts: now, ...q });
      };
      r('next_departure', b.next ? Math.round((b.next.time - now) / 1000) : null);
      r('following_departure', b.following ? Math.round((b.following.time - now) / 1000) : null);
      // A trip the fresh feed does not mention runs as scheduled: its delay is 0, not unknown.
      r('delay', b.next ? (b.next.delay ?? (state.fresh ? 0 : null)) : null);
      r('service_status', b.status);

      for (const dep of list) {
        const key = `${d.id}/${dep.key}`;
        if (dep.status !== 'scheduled' && dep.scheduled >= now && !this.announced.has(key)) {
          this.announced.set(key, dep.scheduled);
          events.push({ device: d.id, type: 'trip_cancelled', ts: now, attributes: { ...ids(dep), scheduled: dep.scheduled } });
        }
        const at = dep.status === 'scheduled' ? dep.time : dep.scheduled;
        if (at + this.o.settleAfter > now || this.settled.has(key) || Math.max(dep.scheduled, at) < this.since) continue;
        this.settled.set(key, at);
        const status = !state.fresh ? 'unknown' : dep.status === 'scheduled' ? 'ran' : dep.status;
        events.push({ device: d.id, type: 'departure', ts: at, attributes: { ...ids(dep), scheduled: dep.scheduled, ...(status === 'ran' ? { departure_delay: dep.delay ?? 0 } : {}), status } });
      }
      for (const a of b.alerts) {
        const key = `${d.id}/${a.id}/${a.header}`;
        if (this.alertsSeen.has(key)) continue;
        this.alertsSeen.set(key, now);
        events.push({ device: d.id, type: 'service_alert', ts: now, attributes: { alert: a.id, effect: a.effect, cause: a.cause, header: a.header } });
      }
    }
    for (const m of [this.settled, this.announced, this.alertsSeen]) for (const [k, t] of m) if (t < now - FORGET) m.delete(k);
    return { readings, events };
  }
}

const ids = (d: Departure) => ({ trip: d.trip, route: d.route, line: d.routeName });
