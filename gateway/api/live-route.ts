import type { FastifyInstance } from 'fastify';
import type { ApiContext } from './server.js';
import type { LiveMessage } from './live.js';
import { liveQuery, parseQuery } from './params.js';

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** GET /api/live: Server-Sent Events of new samples, events, alerts and stale devices. */
export function registerLive(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/api/live', (req, reply) => {
    const q = parseQuery(liveQuery, req.query);
    const types = new Set((q.types ?? 'sample,event,alert,stale').split(',').map((s) => s.trim()));
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n: connected ${new Date(ctx.clock.now()).toISOString()}\n\n`);
    let open = true;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const close = () => {
      if (!open) return;
      open = false;
      clearInterval(heartbeat);
      unsubscribe();
      ctx.metrics.liveClients.set(ctx.live.size);
      res.end();
    };
    const unsubscribe = ctx.live.subscribe({
      filter: (m: LiveMessage) => {
        if (!types.has(m.kind)) return false;
        const d = m.data as { device?: string; class?: string };
        if (q.device && d.device !== q.device) return false;
        if (q.class && d.class !== q.class) return false;
        return true;
      },
      send: (m) => {
        if (!open) return false;
        if (res.writableLength > MAX_BUFFERED_BYTES) return false;
        const data = m.kind === 'sample' || m.kind === 'event' ? { ...m.data, ts: new Date(m.data.ts).toISOString() } : m.data;
        res.write(`event: ${m.kind}\ndata: ${JSON.stringify(data)}\n\n`);
        return true;
      },
      close,
    });
    ctx.metrics.liveClients.set(ctx.live.size);
    req.raw.on('close', close);
  });
}
