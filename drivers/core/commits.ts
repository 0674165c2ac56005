/**
 * Per device, polls whose readings the store still holds uncommitted. A poller polls a device
 * again while its last readings commit (the store may gather a busy turn's readings for
 * `store.batch.busy_delay`), and skips a poll while `max` polls' readings are still in the
 * store's hands: a store that cannot keep up holds polls back instead of piling readings up.
 */
export class PendingCommits {
  private readonly pending = new Map<string, number>();
  constructor(private readonly max = 2) {}

  /** Whether the device's next poll must wait (count it as an overrun). */
  full(device: string): boolean {
    return (this.pending.get(device) ?? 0) >= this.max;
  }

  /** Count `commit` against the device until it settles; `failed` hears a failed commit. */
  track(device: string, commit: Promise<void>, failed: (err: unknown) => void): void {
    this.pending.set(device, (this.pending.get(device) ?? 0) + 1);
    void commit.catch(failed).finally(() => {
      const n = (this.pending.get(device) ?? 1) - 1;
      if (n > 0) this.pending.set(device, n);
      else this.pending.delete(device);
    });
  }
}
