import { z } from 'zod';
import { parseDuration, parseSize } from './config-units.js';
import { didYouMean } from './suggest.js';

// The gateway parses with zod at start, on reload and per API request, never per reading: zod's
// generated fast path (compiled with eval on a schema's first parse) costs more to build than a
// config parse saves. (Every schema module imports this one, so it is set before any parse.)
z.config({ jitless: true });

/**
 * An object that rejects unknown keys, one problem per key, with a "did you mean".
 * The message starts with the key in quotes so the loader can report each key at its own line.
 */
export function strict<T extends z.ZodRawShape>(shape: T) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (iss) => {
      if (iss.code !== 'unrecognized_keys') return undefined;
      return iss.keys.map((k: string) => `"${k}": unknown key${didYouMean(k, known)}`).join('\n');
    },
  });
}

/** A duration string (`500ms`, `5s`, `1h30m`, `30d`) parsed to milliseconds. */
export function duration(defaultText?: string) {
  const schema = z.string({ error: 'must be a duration string such as "500ms", "5s" or "30d"' }).transform((s, ctx) => {
    const ms = parseDuration(s);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a duration (use e.g. 500ms, 5s, 10m, 2h, 30d)` });
      return z.NEVER;
    }
    return ms;
  });
  if (defaultText === undefined) return schema;
  const def = parseDuration(defaultText);
  if (def === undefined) throw new Error(`bad default duration ${defaultText}`);
  return schema.default(def);
}

/** A size string (`512MB`, `5GB`, `1GiB`) parsed to bytes. */
export function size(defaultText?: string) {
  const schema = z.string({ error: 'must be a size string such as "512MB" or "5GB"' }).transform((s, ctx) => {
    const bytes = parseSize(s);
    if (bytes === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a size (use e.g. 512MB, 5GB, 1GiB)` });
      return z.NEVER;
    }
    return bytes;
  });
  if (defaultText === undefined) return schema;
  const def = parseSize(defaultText);
  if (def === undefined) throw new Error(`bad default size ${defaultText}`);
  return schema.default(def);
}

/** Ids used in series keys, topics and URLs. */
export const slug = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-" (e.g. "pv-roof-a")')
  .max(64);

export const port = z.number().int().min(1).max(65535);

export const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || host.startsWith('127.');
}
