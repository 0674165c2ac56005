import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './context.js';
import type { LiveMessage } from './live.js';
import { ApiError, liveQuery, parseQuery } from './params.js';
import { RateLimitedLog } from '../runtime/log.js';

export interface LiveLimits {
  /** Streams open at once over all clients (503 beyond). */
  streams: number;
  /** Streams open at once from one client address (429 beyond). */
  streamsPerClient: number;
  /** Bytes queued for one reader before it is dropped. */
  bufferBytes: number;
  /** Comment lines keep proxies and the idle timeout from closing a quiet stream. */
  heartbeatMs: number;
}

/** Seconds a refused client is told to wait (an EventSource retries by itself anyway). */
const RETRY_AFTER_S = '10';

/**
 * GET /api/live: Server-Sent Events of new samples, events, alerts and stale devices. Each stream
 * holds a socket and a buffer, so both are bounded: at most `streams` (and `streamsPerClient` per
 * address) at once, and a reader that lets more than `bufferBytes` pile up is cut off rather
 * than buffered for.
 */
export function registerLive(app: FastifyInstance, ctx: ApiContext, limits: LiveLimits): void {
  const perClient = new Map<string, number>();
  let open = 0;
  const drops = new RateLimitedLog(ctx.log.child({ part: 'api' }), () => ctx.clock.now(), 5, 60_000, 20);

  app.get('/api/live', (req, reply) => {
    const q = parseQuery(liveQuery, req.query);
    const types = new Set((q.types ?? 'sample,event,alert,stale').split(',').map((s) => s.trim()));
    const client = req.ip;
    if (open >= limits.streams) {
      ctx.metrics.liveRefused.inc({ reason: 'total' });
      throw new ApiError(503, 'LIVE_FULL', `the gateway already serves ${limits.streams} live streams (api.limits.live_streams)`, { 'retry-after': RETRY_AFTER_S });
    }
    if ((perClient.get(client) ?? 0) >= limits.streamsPerClient) {
      ctx.metrics.liveRefused.inc({ reason: 'per_client' });
      throw new ApiError(429, 'LIVE_PER_CLIENT', `this address already holds ${limits.streamsPerClient} live streams (api.limits.live_streams_per_client)`, {
        'retry-after': RETRY_AFTER_S,
      });
    }
    open++;
    perClient.set(client, (perClient.get(client) ?? 0) + 1);

    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    let live = true;
    let behind = false;
    // Written first, checked after: what one reader holds is at most the bound plus one message.
    const write = (text: string): boolean => {
      res.write(text);
      if (res.writableLength <= limits.bufferBytes) return true;
      behind = true;
      return false;
    };
    const close = () => {
      if (!live) return;
      live = false;
      clearInterval(heartbeat);
      unsubscribe();
      open--;
      const n = (perClient.get(client) ?? 1) - 1;
      if (n > 0) perClient.set(client, n);
      else perClient.delete(client);
      ctx.metrics.liveClients.set(open);
      if (behind) {
        ctx.metrics.liveDropped.inc({ reason: 'slow_reader' });
        drops.warn(client, { ip: client, buffered: res.writableLength }, 'live stream dropped: the reader fell behind (api.limits.live_buffer)', 'live-slow-reader');
        // Destroy, not end: end would keep the socket and its whole buffer until the reader reads.
        res.destroy();
      } else {
        res.end();
      }
    };
    const heartbeat = setInterval(() => {
      if (!write(': keep-alive\n\n')) close();
    }, limits.heartbeatMs);
    const unsubscribe = ctx.live.subscribe({
      filter: (m: LiveMessage) => {
        if (!types.has(m.kind)) return false;
        const d = m.data as { device?: string; class?: string };
        if (q.device && d.device !== q.device) return false;
        if (q.class && d.class !== q.class) return false;
        return true;
      },
      send: (m) => {
        if (!live) return false;
        const data = m.kind === 'sample' || m.kind === 'event' ? { ...m.data, ts: new Date(m.data.ts).toISOString() } : m.data;
        return write(`event: ${m.kind}\ndata: ${JSON.stringify(data)}\n\n`);
      },
      close,
    });
    ctx.metrics.liveClients.set(open);
    req.raw.on('close', close);
    res.on('close', close);
    write(`retry: 2000\n: connected ${new Date(ctx.clock.now()).toISOString()}\n\n`);
  });
}
