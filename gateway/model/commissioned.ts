/**
 * A device's `options.commissioned`: the date or instant it went into service (ISO-8601, e.g.
 * `2024-03-01` or `2024-03-01T08:00:00+08:00`). A reading stamped before it is a wrong clock,
 * not late data, and is refused as `bad_timestamp`. Anything else there is ignored (`fcgw
 * check-config` reports it).
 */
export function commissionedOf(options: Readonly<Record<string, string | number | boolean>> | undefined): number | undefined {
  const v = options?.['commissioned'];
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(v.trim())) return undefined;
  const t = Date.parse(v.trim());
  return Number.isNaN(t) ? undefined : t;
}
