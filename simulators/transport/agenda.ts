/** Things due at a simulated time, taken out in time order (ties keep insertion order). */
export class Agenda<T> {
  private items: { ts: number; seq: number; item: T }[] = [];
  private seq = 0;

  add(ts: number, item: T): void {
    const e = { ts, seq: this.seq++, item };
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = this.items[mid] as { ts: number; seq: number };
      if (m.ts < ts || (m.ts === ts && m.seq < e.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, e);
  }

  /** Remove and return everything due at or before `to`. */
  takeUntil(to: number): { ts: number; item: T }[] {
    let n = 0;
    while (n < this.items.length && (this.items[n] as { ts: number }).ts <= to) n++;
    return this.items.splice(0, n);
  }

  peekTs(): number | undefined {
    return this.items[0]?.ts;
  }

  get size(): number {
    return this.items.length;
  }
}
