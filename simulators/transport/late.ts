import type { Outgoing, Source } from './outgoing.js';

/**
 * A device family whose messages do not all go out when they happen: `releaseAt` says, per
 * message, the simulated time it is sent (undefined: at once). Held messages keep their own
 * timestamps and go out in the order they happened, after newer live ones: late data, as couriers'
 * handhelds syncing in batches or a controller whose second bay reports late produce it.
 */
export class LateSource implements Source {
  readonly name: string;
  private held: { at: number; out: Outgoing }[] = [];

  constructor(
    private readonly inner: Source,
    private readonly releaseAt: (out: Outgoing) => number | undefined,
  ) {
    this.name = inner.name;
  }

  advance(to: number): Outgoing[] {
    const now: Outgoing[] = [];
    for (const out of this.inner.advance(to)) {
      const at = this.releaseAt(out);
      if (at === undefined || at <= out.ts) now.push(out);
      else this.held.push({ at, out });
    }
    return [...now, ...this.take((h) => h.at <= to)];
  }

  /** Everything still held (a handheld docked at the end of the shift). */
  release(): Outgoing[] {
    return this.take(() => true);
  }

  get holding(): number {
    return this.held.length;
  }

  private take(due: (h: { at: number; out: Outgoing }) => boolean): Outgoing[] {
    const out = this.held.filter(due);
    if (!out.length) return [];
    this.held = this.held.filter((h) => !due(h));
    return out.sort((a, b) => a.at - b.at || a.out.ts - b.out.ts).map((h) => h.out);
  }

  groundTruth(): Record<string, unknown> {
    return this.inner.groundTruth();
  }
}

/** Handhelds syncing every `everyMs`: a delivery goes out at the first sync after it happened. */
export function parcelSync(everyMs: number): (out: Outgoing) => number | undefined {
  return (out) => (out.topic.startsWith('logistics/platform/') && out.body['event'] === 'delivered' ? (Math.floor(out.ts / everyMs) + 1) * everyMs : undefined);
}

/** The garage's second bay reports its hand-overs `delayMs` late. */
export function secondBayDelay(delayMs: number): (out: Outgoing) => number | undefined {
  return (out) => (out.body['type'] === 'retrieval_complete' && out.body['bay'] === 2 ? out.ts + delayMs : undefined);
}
