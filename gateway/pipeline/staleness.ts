/**
 * Which devices have gone quiet. A device that has not delivered anything for longer than its
 * threshold is reported stale once; its series are then marked stale in place (value and time
 * kept), never re-emitted with a fresh timestamp.
 */
/**
 * How long a device may stay quiet before it is stale: its own `stale_after`, else the site's,
 * but never less than three polls. Poll periods run on wall-clock timers; under an accelerated
 * clock three of them span `rate` times more clock time, so a polled device is not called quiet
 * between two polls.
 */
export function staleAfter(device: { stale_after?: number | undefined; poll?: number | undefined } | undefined, siteDefault: number, rate: number | undefined): number {
  return device?.stale_after ?? Math.max(siteDefault, 3 * (device?.poll ?? 0) * (rate ?? 1));
}

export class StalenessTracker {
  private readonly lastSeen = new Map<string, number>();
  private readonly stale = new Set<string>();

  constructor(private readonly thresholdOf: (device: string) => number) {}

  seen(device: string, at: number): void {
    this.lastSeen.set(device, at);
    this.stale.delete(device);
  }

  /** Devices that crossed their threshold since the last sweep. */
  sweep(now: number): string[] {
    const out: string[] = [];
    for (const [device, at] of this.lastSeen) {
      if (!this.stale.has(device) && now - at > this.thresholdOf(device)) {
        this.stale.add(device);
        out.push(device);
      }
    }
    return out;
  }

  isStale(device: string): boolean {
    return this.stale.has(device);
  }

  forget(device: string): void {
    this.lastSeen.delete(device);
    this.stale.delete(device);
  }
}
