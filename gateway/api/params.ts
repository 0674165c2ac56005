import { z } from 'zod';
import { didYouMean } from '../model/suggest.js';
import { CATALOG } from '../model/catalog.js';

/** Query parameters shared by the routes; bad ones become 400 {error: {code, message}}. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
  }
}

/** Times the API accepts: 1970-01-01 to 9999-12-31 (beyond, a date cannot even be printed as ISO-8601). */
export const TIME_MIN = 0;
export const TIME_MAX = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** ISO-8601 or epoch milliseconds → epoch ms, within TIME_MIN..TIME_MAX. */
export const time = z.string().transform((s, ctx) => {
  const t = /^-?\d+$/.test(s) ? Number(s) : Date.parse(s);
  if (!Number.isFinite(t)) {
    ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 40)}" is not a time (ISO-8601 or epoch milliseconds)` });
    return z.NEVER;
  }
  if (t < TIME_MIN || t > TIME_MAX) {
    ctx.addIssue({ code: 'custom', message: `"${s.slice(0, 40)}" is outside 1970-01-01 … 9999-12-31` });
    return z.NEVER;
  }
  return t;
});

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be an id like "pv-roof-a"').max(64);

/** A device class of the catalog; a typo gets a "did you mean" rather than an empty answer. */
const deviceClass = z.string().superRefine((s, ctx) => {
  if (!(s in CATALOG)) ctx.addIssue({ code: 'custom', message: `"${s}" is not a device class of the catalog${didYouMean(s, Object.keys(CATALOG))}` });
});

export const latestQuery = z.strictObject({ device: id.optional(), class: deviceClass.optional() });

export const seriesQuery = z.strictObject({
  device: id,
  metric: z.string().regex(/^[a-z_]+$/, 'must be a catalog metric name'),
  from: time.optional(),
  to: time.optional(),
  step: z.enum(['raw', '1m', '1h']).optional(),
  limit: z.coerce.number().int().min(1).max(100_000).optional(),
});

export const eventsQuery = z.strictObject({
  type: z.string().regex(/^[a-z_]+$/).optional(),
  device: id.optional(),
  class: deviceClass.optional(),
  from: time.optional(),
  to: time.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).optional(),
});

export const liveQuery = z.strictObject({
  device: id.optional(),
  class: deviceClass.optional(),
  /** Comma-separated: sample, event, alert, stale. */
  types: z.string().optional(),
});

export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.output<T> {
  const res = schema.safeParse(query ?? {});
  if (res.success) return res.data;
  const msg = res.error.issues
    .map((i) => {
      if (i.code === 'unrecognized_keys') return `unknown parameter${i.keys.length > 1 ? 's' : ''} ${i.keys.join(', ')}`;
      const name = i.path.join('.');
      if (i.code === 'invalid_type' && i.message.includes('received undefined')) return `${name} is required`;
      return `${name}: ${i.message}`;
    })
    .join('; ');
  throw new ApiError(400, 'BAD_PARAMETER', msg);
}
