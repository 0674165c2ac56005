/**
 * Comparing what a golden case expects with what came out, and saying the difference readably:
 * one line per item, `-` for expected but missing, `+` for produced but not expected. Numbers
 * are equal within 1e-9 relative (a kWh → Wh conversion is a float product); pure.
 */

type Item = Record<string, unknown>;

function same(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  if (typeof a === 'bigint' || typeof b === 'bigint') return String(a) === String(b);
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return a === b;
  const ka = Object.keys(a as Item).filter((k) => (a as Item)[k] !== undefined);
  const kb = Object.keys(b as Item).filter((k) => (b as Item)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => same((a as Item)[k], (b as Item)[k]));
}

/** `metric=flow value=1.5 unit=m³/h ts=2024-11-22T02:00:00.000Z`: an item as one readable line. */
export function itemText(i: Item): string {
  return Object.entries(i)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${k === 'ts' && typeof v === 'number' ? new Date(v).toISOString() : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

/** Lines of the difference between two lists compared as multisets (empty: equal). */
export function diffItems(want: readonly Item[], got: readonly Item[]): string[] {
  const left = [...got];
  const missing: Item[] = [];
  for (const w of want) {
    const i = left.findIndex((g) => same(w, g));
    if (i >= 0) left.splice(i, 1);
    else missing.push(w);
  }
  return [...missing.map((m) => `- ${itemText(m)}`), ...left.map((g) => `+ ${itemText(g)}`)];
}

/** Sort by metric (then ts): the order a device reports its points in is not part of a case. */
export const byMetric = (a: Item, b: Item): number => String(a['metric']).localeCompare(String(b['metric'])) || Number(a['ts'] ?? 0) - Number(b['ts'] ?? 0);
