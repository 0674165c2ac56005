import type { GatewayEvent, Sample } from '../model/types.js';

/** Messages of /api/live. */
export type LiveMessage =
  | { kind: 'sample'; data: Omit<Sample, 'site'> }
  | { kind: 'event'; data: Omit<GatewayEvent, 'site'> }
  | { kind: 'alert'; data: Record<string, unknown> }
  | { kind: 'stale'; data: { device: string; since: number } };

export interface LiveSubscriber {
  filter(m: LiveMessage): boolean;
  /** Returns false when the subscriber cannot keep up; the hub then drops it. */
  send(m: LiveMessage): boolean;
  close(): void;
}

/** Fan-out of committed data to live clients. A slow client is dropped, never buffered without bound. */
export class LiveHub {
  private readonly subs = new Set<LiveSubscriber>();

  subscribe(s: LiveSubscriber): () => void {
    this.subs.add(s);
    return () => this.subs.delete(s);
  }

  get size(): number {
    return this.subs.size;
  }

  publish(m: LiveMessage): void {
    for (const s of this.subs) {
      if (!s.filter(m)) continue;
      if (!s.send(m)) {
        this.subs.delete(s);
        s.close();
      }
    }
  }

  publishCommitted(samples: readonly Sample[], events: readonly GatewayEvent[]): void {
    if (this.subs.size === 0) return;
    for (const { site: _site, ...data } of samples) this.publish({ kind: 'sample', data });
    for (const { site: _site, ...data } of events) this.publish({ kind: 'event', data });
  }

  closeAll(): void {
    for (const s of this.subs) s.close();
    this.subs.clear();
  }
}
