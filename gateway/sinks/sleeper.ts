/**
 * A sink loop's pause between steps that something else can cut short (new data committed, a
 * flush, stop): one pending sleep at a time, woken at most once.
 */
export class Sleeper {
  private wakeUp: (() => void) | undefined;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }

  /** End the pending sleep now (nothing when none is pending). */
  wake(): void {
    this.wakeUp?.();
  }
}
