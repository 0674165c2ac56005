import pino, { type DestinationStream, type Logger } from 'pino';

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
    base: { app: 'fcgw' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.pretty ?? process.stdout.isTTY === true;
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app' } },
    });
  }
  return pino(base);
}

/** At most `perWindow` lines per key per window; the rest are counted and summarised. */
export class RateLimitedLog {
  private readonly windows = new Map<string, { start: number; n: number; suppressed: number }>();
  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
    private readonly perWindow = 5,
    private readonly windowMs = 60_000,
  ) {}

  warn(key: string, obj: object, msg: string): void {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || t - w.start >= this.windowMs) {
      if (w && w.suppressed > 0) this.log.warn({ key, suppressed: w.suppressed }, `${w.suppressed} more like this were not logged`);
      if (this.windows.size > 10_000) this.windows.clear();
      w = { start: t, n: 0, suppressed: 0 };
      this.windows.set(key, w);
    }
    if (w.n < this.perWindow) {
      w.n++;
      this.log.warn(obj, msg);
    } else {
      w.suppressed++;
    }
  }
}
