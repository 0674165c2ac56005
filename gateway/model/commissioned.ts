/**
 * A device's `options.commissioned`: the date or instant it went into service (ISO-8601, e.g.
 * `2024-03-01` or `2024-03-01T08:00:00+08:00`). A reading stamped before it is a wrong clock,
 * not late data, and is refused as `bad_timestamp`. Anything else there is ignored (`fcgw
 * check-config` reports it).
 */
export function commissionedOf(options: Readonly<Record<string, string | number | boolean>> | undefined): number | undefined {
  if (!options) return undefined;
  // Asked for every reading; a device's options object only changes with the config.
  if (known.has(options)) return known.get(options);
  const v = options['commissioned'];
  const t = typeof v === 'string' && /^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v.trim()) ? Date.parse(v.trim()) : NaN;
  const out = Number.isNaN(t) ? undefined : t;
  known.set(options, out);
  return out;
}

const known = new WeakMap<object, number | undefined>();

/** The earliest device time that is data, not a wrong clock (2000-01-01). */
export const EARLIEST_TS = Date.UTC(2000, 0, 1);
/** How far ahead of the gateway's clock a device time may be before it is a wrong clock: a day. */
export const MAX_AHEAD_MS = 24 * 3_600_000;
