/** The simulators' exact totals at one whole hour (simulators/energy/community.ts `marks()`). */
export type Truth = Record<string, number>;
export interface Mark {
  ts: number;
  community: Truth;
  devices: Record<string, Truth>;
}

/**
 * What each device did between two whole hours, from the simulators' hourly marks: `d(id, key)`
 * is the change of that device's total over [from, to).
 */
export function truthBetween(marks: readonly Mark[], from: number, to: number): { a: Mark; b: Mark; d: (id: string, key: string) => number } {
  const at = (ts: number) => {
    const m = marks.find((x) => x.ts === ts);
    if (!m) throw new Error(`no ground-truth mark at ${new Date(ts).toISOString()} (have ${marks.map((x) => new Date(x.ts).toISOString()).join(', ')})`);
    return m;
  };
  const [a, b] = [at(from), at(to)];
  return { a, b, d: (id, key) => (b.devices[id]?.[key] ?? NaN) - (a.devices[id]?.[key] ?? NaN) };
}
