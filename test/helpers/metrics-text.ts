import { readFileSync } from 'node:fs';

/**
 * What benches and tests read of a running gateway from outside: a metric's value in its own
 * Prometheus text (`/metrics`), and what the process wrote to disk (/proc).
 */

/** A metric in Prometheus text: every labelled line of it, summed (0 when absent). */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'gm'))) sum += Number(m[1]);
  return sum;
}

/** Several metrics from one read of `${apiUrl}/metrics`, each summed over its labels. */
export async function scrapeMetrics<K extends string>(apiUrl: string, names: readonly K[]): Promise<Record<K, number>> {
  const text = await (await fetch(`${apiUrl}/metrics`)).text();
  return Object.fromEntries(names.map((n) => [n, metricSum(text, n)])) as Record<K, number>;
}

/** Bytes a process has caused to be written to storage (/proc/<pid>/io write_bytes): a gateway's WAL and checkpoints. */
export function diskWriteBytes(pid: number): number {
  return Number(/write_bytes:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN);
}
