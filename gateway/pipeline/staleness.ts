/**
 * Which devices have gone quiet. A device that has not delivered anything for longer than its
 * threshold is reported stale once; its series are then marked stale in place (value and time
 * kept), never re-emitted with a fresh timestamp.
 */
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
