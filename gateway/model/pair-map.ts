/**
 * A map keyed by two strings (a device and a metric, a class and a quality) as nested maps. The
 * hot path looks such pairs up several times per sample; a joined key (`${a}\u0000${b}`) is a new
 * string each time, which V8 must flatten and hash before every lookup, while the strings of a
 * pair keep their hash once computed. Entries iterate in the order their pair was first set,
 * grouped by the first string. Bounded by `limit`: a new pair beyond it pushes out the first.
 */
export class PairMap<V> {
  private readonly outer = new Map<string, Map<string, V>>();
  private count = 0;

  constructor(private readonly limit = Infinity) {}

  get size(): number {
    return this.count;
  }

  get(a: string, b: string): V | undefined {
    return this.outer.get(a)?.get(b);
  }

  has(a: string, b: string): boolean {
    return this.outer.get(a)?.has(b) ?? false;
  }

  set(a: string, b: string, value: V): this {
    if (this.count >= this.limit && !this.has(a, b)) {
      const oldest = this.first();
      if (oldest) this.delete(...oldest);
    }
    let inner = this.outer.get(a);
    if (!inner) this.outer.set(a, (inner = new Map()));
    const before = inner.size;
    inner.set(b, value);
    this.count += inner.size - before;
    return this;
  }

  delete(a: string, b: string): boolean {
    const inner = this.outer.get(a);
    if (!inner?.delete(b)) return false;
    this.count--;
    if (inner.size === 0) this.outer.delete(a);
    return true;
  }

  /** The first pair set (of the first string set): what the bound gives up first. */
  first(): [string, string] | undefined {
    for (const [a, inner] of this.outer) for (const b of inner.keys()) return [a, b];
    return undefined;
  }

  clear(): void {
    this.outer.clear();
    this.count = 0;
  }

  *entries(): IterableIterator<[string, string, V]> {
    for (const [a, inner] of this.outer) for (const [b, v] of inner) yield [a, b, v];
  }
}
