import type { LatestRow } from '../store/queries.js';
import type { InterlockConfig } from './schema.js';

/**
 * The checks a command passes after its caller and value: per-device rate, the command's dwell
 * and the configured interlocks. Pure: they are handed what they judge (times, latest values).
 */

/** A sliding minute of commands per device. */
export class RateLimiter {
  private readonly seen = new Map<string, number[]>();

  constructor(private readonly perMinute: number) {}

  /** Counts the attempt; false when the device already had `perMinute` in the last minute. */
  take(device: string, now: number): boolean {
    const list = (this.seen.get(device) ?? []).filter((t) => t > now - 60_000);
    const ok = list.length < this.perMinute;
    if (ok) list.push(now);
    this.seen.set(device, list);
    // Bounded: devices with nothing in the window are forgotten.
    if (this.seen.size > 10_000) for (const [d, l] of this.seen) if (!l.some((t) => t > now - 60_000)) this.seen.delete(d);
    return ok;
  }
}

/**
 * When the next change of a command may come: `dwell` after the last change the device accepted,
 * unless the value asked for is what it already has (asking again changes nothing).
 */
export function dwellUntil(last: { ts: number; value: string } | undefined, value: string, dwellMs: number): number | undefined {
  if (!last || dwellMs <= 0 || last.value === value) return undefined;
  const until = last.ts + dwellMs;
  return until;
}

/** The interlocks that hold a command now, with their reasons. A missing or old value holds (fail safe). */
export function holdingInterlocks(
  list: readonly InterlockConfig[],
  device: string,
  command: string,
  latest: (device: string, metric: string) => LatestRow | undefined,
  now: number,
): string[] {
  const out: string[] = [];
  for (const il of list) {
    if (!il.devices.includes(device)) continue;
    if (il.commands.length && !il.commands.includes(command)) continue;
    const row = latest(il.when.device, il.when.metric);
    if (!row || row.value === null || now - row.ts > il.max_age) {
      out.push(`${il.reason} (no current ${il.when.device}.${il.when.metric})`);
      continue;
    }
    const v = row.value;
    const w = il.when;
    const hit =
      (w.above !== undefined && typeof v === 'number' && v > w.above) ||
      (w.below !== undefined && typeof v === 'number' && v < w.below) ||
      (w.equals !== undefined && v === w.equals);
    if (hit) out.push(`${il.reason} (${il.when.device}.${il.when.metric} = ${String(v)})`);
  }
  return out;
}
