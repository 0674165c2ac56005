import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger, type LogFn } from 'pino';
import { redactSecrets } from '../model/redact.js';

/** Secrets never reach the log, wherever they appear in a logged object. */
export const REDACT_PATHS = [
  'password',
  '*.password',
  '*.*.password',
  'token',
  '*.token',
  '*.*.token',
  'tokens',
  '*.tokens',
  'admin_tokens',
  '*.admin_tokens',
  'password_hash',
  '*.password_hash',
  'authorization',
  '*.authorization',
  'secret',
  '*.secret',
];

export interface LogOptions {
  level?: string;
  pretty?: boolean;
  /** Where lines go (tests pass a stream and read it). Default: stdout. */
  destination?: DestinationStream;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const base = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    hooks: { logMethod: redactUrlsInArgs },
    base: { app: 'fcgw' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    // In this thread, loaded only for a terminal: a pino transport would start a worker thread
    // (another V8 isolate, about 20 MB) for a few log lines a minute.
    const prettyStream = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
    return pino(base, prettyStream({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', sync: true }));
  }
  return pino(base);
}

/**
 * Paths cannot catch a password inside a URL (`mqtt://user:pass@host`) or an error message that
 * repeats one: the message and the logged object's string fields (one level deep) are
 * redacted too. Logging is not a hot path; the check is a substring test when nothing matches.
 */
function redactUrlsInArgs(this: Logger, args: Parameters<LogFn>, method: LogFn): void {
  const out = (args as unknown[]).map((a) => redactValue(a, 1));
  (method as (...a: unknown[]) => void).apply(this, out);
}

function redactValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') return redactSecrets(v);
  if (v instanceof Error) {
    const message = redactSecrets(v.message);
    if (message === v.message) return v;
    const copy = new Error(message);
    copy.name = v.name;
    if (v.stack) copy.stack = redactSecrets(v.stack);
    return copy;
  }
  if (depth < 0 || v === null || typeof v !== 'object') return v;
  // Plain objects only: a Buffer or a typed array would be walked byte by byte.
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  let copy: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const r = redactValue(x, depth - 1);
    if (r !== x) (copy ??= { ...(v as Record<string, unknown>) })[k] = r;
  }
  return copy ?? v;
}

/**
 * At most `perWindow` lines per key per window, and at most `perGroup` per group (say, a
 * rejection reason over all devices: a flood from a thousand devices must not be a thousand
 * times five lines). The rest are counted and summarised, once per group and window.
 */
export class RateLimitedLog {
  private readonly keys = new Map<string, { start: number; n: number }>();
  private readonly groups = new Map<string, { start: number; n: number; suppressed: number }>();
  /** A group never logs fewer lines than one of its keys may. */
  private readonly groupCap: number;
  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
    perGroup = 20,
  ) {
    this.groupCap = Math.max(perGroup, perWindow);
  }

  warn(key: string, obj: object, msg: string, group: string): void {
    const t = this.now();
    let g = this.groups.get(group);
    if (!g || t - g.start >= this.windowMs) {
      if (g && g.suppressed > 0) this.log.warn({ key: group, suppressed: g.suppressed }, `${g.suppressed} more like this were not logged`);
      if (this.groups.size > 10_000) this.groups.clear();
      g = { start: t, n: 0, suppressed: 0 };
      this.groups.set(group, g);
    }
    let k = this.keys.get(key);
    if (!k || t - k.start >= this.windowMs) {
      if (this.keys.size > 10_000) this.keys.clear();
      k = { start: t, n: 0 };
      this.keys.set(key, k);
    }
    if (k.n < this.perWindow && g.n < this.groupCap) {
      k.n++;
      g.n++;
      this.log.warn(obj, msg);
    } else {
      g.suppressed++;
    }
  }
}
