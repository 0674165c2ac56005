/**
 * Why a write did not land, and what the sink does about it. Retryable errors (network,
 * timeout, 5xx, 429, refused credentials or a missing database) keep the batch and back off;
 * a rejection (400/413/422: the server refuses some points) is isolated point by point and
 * the bad ones are dead-lettered, so one bad point never blocks a sink.
 */
export type SinkErrorCode =
  | 'SINK_NETWORK'
  | 'SINK_TIMEOUT'
  | 'SINK_SERVER'
  | 'SINK_THROTTLED'
  | 'SINK_REJECTED'
  | 'SINK_CONFIG'
  | 'SINK_NOT_CONNECTED'
  | 'SINK_ABORTED';

export class SinkWriteError extends Error {
  constructor(
    readonly code: SinkErrorCode,
    message: string,
    readonly opts: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
  }

  get status(): number | undefined {
    return this.opts.status;
  }

  get retryAfterMs(): number | undefined {
    return this.opts.retryAfterMs;
  }

  /** A rejection is about the points, not the link: retrying the same points cannot help. */
  get rejectsPoints(): boolean {
    return this.code === 'SINK_REJECTED';
  }
}

/**
 * Retry-After as milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Classify an HTTP answer that is not 2xx. */
export function httpError(status: number, body: string, retryAfter: string | null | undefined, now: number): SinkWriteError {
  const text = body.trim().slice(0, 500);
  const message = `HTTP ${status}${text ? `: ${text}` : ''}`;
  const retryAfterMs = parseRetryAfter(retryAfter, now);
  const opts = retryAfterMs === undefined ? { status } : { status, retryAfterMs };
  if (status === 429) return new SinkWriteError('SINK_THROTTLED', message, opts);
  if (status >= 500) return new SinkWriteError('SINK_SERVER', message, opts);
  if (status === 400 || status === 413 || status === 422) return new SinkWriteError('SINK_REJECTED', message, opts);
  // 401/403/404…: wrong token, user or database; the operator can fix it without losing data.
  return new SinkWriteError('SINK_CONFIG', message, opts);
}

/** Classify a thrown transport error (fetch, http, mqtt). */
export function transportError(err: unknown, timeoutMs: number): SinkWriteError {
  if (err instanceof SinkWriteError) return err;
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'RequestTimedOutError') {
    return new SinkWriteError('SINK_TIMEOUT', `no answer within ${timeoutMs} ms`, { cause: err });
  }
  if (e?.name === 'AbortError') return new SinkWriteError('SINK_ABORTED', 'aborted', { cause: err });
  const code = e?.cause?.code ?? e?.code;
  const detail = e?.cause?.message ?? e?.message ?? String(err);
  return new SinkWriteError('SINK_NETWORK', code ? `${code}: ${detail}` : detail, { cause: err });
}
