import { describe, expect, it } from 'vitest';
import { backoffDelay, backoffPolicy } from '../../../gateway/sinks/backoff.js';
import { httpError, parseRetryAfter, SinkWriteError, transportError } from '../../../gateway/sinks/errors.js';

describe('sink backoff', () => {
  const policy = backoffPolicy(60_000);

  it('doubles from 250 ms up to backoff_max, with jitter between half and all of the step', () => {
    const low = (n: number) => backoffDelay(n, policy, () => 0);
    const high = (n: number) => backoffDelay(n, policy, () => 1);
    expect([1, 2, 3, 4, 5].map(high)).toEqual([250, 500, 1000, 2000, 4000]);
    expect([1, 2, 3].map(low)).toEqual([125, 250, 500]);
    expect(high(30)).toBe(60_000);
    expect(low(1000)).toBe(30_000);
    // Never zero, so a tight loop against a dead server is impossible.
    expect(backoffDelay(0, policy, () => 0)).toBeGreaterThan(0);
  });

  it('spreads retries of many gateways apart', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const delays = new Set(Array.from({ length: 100 }, () => backoffDelay(6, policy, random)));
    expect(delays.size).toBeGreaterThan(90);
  });

  it('honours Retry-After as a lower bound, capped so a bogus header cannot park the sink for days', () => {
    expect(backoffDelay(1, policy, () => 1, 30_000)).toBe(30_000);
    expect(backoffDelay(10, policy, () => 1, 10)).toBe(60_000);
    expect(backoffDelay(1, policy, () => 1, 30 * 86_400_000)).toBe(15 * 60_000);
  });
});

describe('sink errors', () => {
  const now = Date.parse('2026-11-29T12:00:00Z');

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Sun, 29 Nov 2026 11:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it.each<[number, string, boolean]>([
    [429, 'SINK_THROTTLED', false],
    [500, 'SINK_SERVER', false],
    [503, 'SINK_SERVER', false],
    [400, 'SINK_REJECTED', true],
    [413, 'SINK_REJECTED', true],
    [422, 'SINK_REJECTED', true],
    [401, 'SINK_CONFIG', false],
    [403, 'SINK_CONFIG', false],
    [404, 'SINK_CONFIG', false],
  ])('HTTP %i is %s (isolate points: %s)', (status, code, rejects) => {
    const e = httpError(status, ' {"error":"x"} ', '2', now);
    expect(e.code).toBe(code);
    expect(e.rejectsPoints).toBe(rejects);
    expect(e.status).toBe(status);
    expect(e.retryAfterMs).toBe(2000);
    expect(e.message).toBe(`HTTP ${status}: {"error":"x"}`);
  });

  it('classifies transport failures; only a rejection of points is ever dead-lettered', () => {
    const refused = transportError(Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' } }), 1000);
    expect(refused.code).toBe('SINK_NETWORK');
    expect(refused.message).toBe('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:1');
    expect(transportError(Object.assign(new Error('t'), { name: 'TimeoutError' }), 2500).message).toBe('no answer within 2500 ms');
    expect(transportError(Object.assign(new Error('a'), { name: 'AbortError' }), 1).code).toBe('SINK_ABORTED');
    const own = new SinkWriteError('SINK_REJECTED', 'bad');
    expect(transportError(own, 1)).toBe(own);
    expect(refused.rejectsPoints).toBe(false);
  });
});
