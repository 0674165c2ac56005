/**
 * Failed logins per source address: after `maxFailures` within `windowMs` (logins still being
 * checked count too, so a burst cannot slip past), the address is refused without a password
 * check until its oldest failure leaves the window. Bounded: the least recently failed
 * addresses are forgotten first.
 */
export class LoginLimiter {
  private readonly entries = new Map<string, { failures: number[]; pending: number }>();

  constructor(
    private readonly opts: { maxFailures: number; windowMs: number; now: () => number; maxAddresses?: number },
  ) {}

  /** True: check this login (call `end` after). False: refuse it unchecked. */
  begin(address: string): boolean {
    const e = this.entry(address);
    const since = this.opts.now() - this.opts.windowMs;
    while (e.failures.length && (e.failures[0] as number) <= since) e.failures.shift();
    if (e.failures.length + e.pending >= this.opts.maxFailures) return false;
    e.pending++;
    return true;
  }

  end(address: string, ok: boolean): void {
    const e = this.entry(address);
    e.pending = Math.max(0, e.pending - 1);
    if (!ok) {
      e.failures.push(this.opts.now());
      // Most recently failed last: the map's order is the eviction order.
      this.entries.delete(address);
      this.entries.set(address, e);
    } else if (e.failures.length === 0 && e.pending === 0) this.entries.delete(address);
  }

  private entry(address: string): { failures: number[]; pending: number } {
    let e = this.entries.get(address);
    if (!e) {
      if (this.entries.size >= (this.opts.maxAddresses ?? 10_000)) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      e = { failures: [], pending: 0 };
      this.entries.set(address, e);
    }
    return e;
  }
}

/**
 * The limiter's key for an address: IPv4 as is (also when IPv4-mapped), IPv6 by its /64, the
 * block one host holds (rotating addresses inside it must not reset the count).
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')}::/64`;
}

/**
 * At most `max` password checks at once: scrypt runs on libuv's pool (4 threads), which the
 * gateway's file, DNS and gzip work shares; a flood of logins from many addresses waits here
 * instead of filling the pool. A login whose socket has gone is skipped when its turn comes.
 */
export class CheckQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((r) => this.waiting.push(r));
    this.running++;
    try {
      return await fn();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
