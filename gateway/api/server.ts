import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { ApiContext, ApiPlugin, ApiRoute, DeviceView } from './context.js';
import { apiSchema, namedTokens } from '../config/schema.js';
import { deviceActivity } from '../store/queries.js';
import { registerAdminRoutes } from './admin-routes.js';
import { ApiGuard, pathOf, type Access, type Scope } from './auth.js';
import { registerDataRoutes } from './data-routes.js';
import { registerLive } from './live-route.js';
import { ApiError } from './params.js';

/** The compiler for a route schema, which no route has: a route that declares one fails at start. */
function noSchemas({ url }: { url?: string }): never {
  throw new Error(`route ${url ?? '?'} declares a JSON Schema; the API validates with zod (gateway/api/params.ts)`);
}

export type { ApiContext, ApiPlugin, ApiRoute, DeviceView, HealthReport } from './context.js';

const ROUTES = new WeakMap<FastifyInstance, ApiRoute[]>();

/** Every route of an API built by buildApi, with its access level. */
export function apiRoutes(app: FastifyInstance): readonly ApiRoute[] {
  return ROUTES.get(app) ?? [];
}

const API_DEFAULTS = apiSchema.parse({});

/** Build the HTTP API without listening, so tests can `inject()` requests. */
/** The http URL a listening API answers on (an IPv6 address in brackets), or undefined before it listens. */
export function listenUrl(api: FastifyInstance | undefined): string | undefined {
  const addr = api?.server.address();
  if (!addr || typeof addr === 'string') return undefined;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return `http://${host}:${addr.port}`;
}

export async function buildApi(ctx: ApiContext, plugins: ApiPlugin[] = []): Promise<FastifyInstance> {
  const limits = { ...API_DEFAULTS.limits, ...ctx.api?.limits };
  const app = Fastify({
    // Per-request lines (fastify logs them at info) would drown the gateway's own log: the API's
    // logger starts at warn. (The `disableRequestLogging` option is deprecated in fastify 5.)
    // Whatever fastify logs of a request carries its path, never its query (an access_token).
    loggerInstance: ctx.log.child(
      { part: 'api' },
      {
        level: ctx.log.isLevelEnabled('warn') ? 'warn' : ctx.log.level,
        serializers: { req: (req: { method?: string; url?: string; ip?: string }) => ({ method: req.method, path: pathOf(req.url ?? ''), ip: req.ip }) },
      },
    ) as unknown as FastifyBaseLogger,
    // A slow-header (slowloris) socket is answered 408 and closed after header_timeout; Node
    // checks its connections every connectionsCheckingInterval, so that is kept well below it.
    http: {
      headersTimeout: limits.header_timeout,
      requestTimeout: limits.request_timeout,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.header_timeout / 4))),
    },
    requestTimeout: limits.request_timeout,
    connectionTimeout: limits.idle_timeout,
    keepAliveTimeout: limits.keep_alive_timeout,
    // No route takes a body larger than this; the admin routes take none.
    bodyLimit: 64 * 1024,
    // No route declares a JSON Schema: queries and bodies are parsed by zod (api/params.ts), and
    // replies are plain JSON. Without these, fastify loads ajv and fast-json-stringify at start
    // (about 100 ms of an empty gateway's 0.6 s to /api/health, and their memory) for nothing.
    schemaController: { compilersFactory: { buildValidator: (() => noSchemas) as never, buildSerializer: (() => noSchemas) as never } },
  }) as unknown as FastifyInstance;

  const guard = new ApiGuard(
    {
      readTokens: ctx.tokens,
      adminTokens: namedTokens(ctx.api?.admin_tokens ?? []),
      listenHost: ctx.api?.host ?? API_DEFAULTS.host,
      allowedHosts: ctx.api?.allowed_hosts ?? [],
    },
    ctx.metrics,
    ctx.log.child({ part: 'api' }),
    ctx.clock,
  );

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof ApiError) {
      if (err.headers) reply.headers(err.headers);
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) ctx.log.error({ err }, 'API request failed');
    return reply.code(status).send({ error: { code: err.code ?? 'INTERNAL', message: status >= 500 ? 'internal error' : err.message } });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'NOT_FOUND', message: `no route ${req.method} ${pathOf(req.url)}` } }),
  );
  app.addHook('onRequest', guard.checkHost);

  // One encapsulated context per access level: a context's onRequest hook runs for exactly the
  // routes the router matched in it, whatever spelling of the path led there.
  const routes: ApiRoute[] = [];
  const liveLimits = {
    streams: limits.live_streams,
    streamsPerClient: limits.live_streams_per_client,
    bufferBytes: limits.live_buffer,
    heartbeatMs: Math.min(15_000, Math.floor(limits.idle_timeout / 3)),
  };
  const contexts: Record<Access, (app: FastifyInstance) => void | Promise<void>> = {
    public: async (scope) => {
      for (const p of plugins) if (p.access === 'public') await p(scope);
    },
    read: async (scope) => {
      registerDataRoutes(scope, ctx);
      registerLive(scope, ctx, liveLimits);
      for (const p of plugins) if ((p.access ?? 'read') === 'read') await p(scope);
    },
    admin: async (scope) => {
      registerAdminRoutes(scope, ctx);
      for (const p of plugins) if (p.access === 'admin') await p(scope);
    },
  };
  for (const access of ['public', 'read', 'admin'] as const) {
    await app.register(async (scope) => {
      if (access !== 'public') scope.addHook('onRequest', guard.requireScope(access satisfies Scope));
      scope.addHook('onRoute', (r) => {
        for (const method of [r.method].flat()) routes.push({ method, url: r.url, access });
      });
      await contexts[access](scope);
    });
  }
  ROUTES.set(app, routes);
  return app;
}

/** Device status from what the store saw and what the driver says. */
export function deviceStatus(
  lastSeen: number | undefined,
  driverState: string | undefined,
  stale: boolean,
): DeviceView['status'] {
  if (driverState === 'quarantined') return 'quarantined';
  if (driverState === 'offline') return 'offline';
  if (lastSeen === undefined) return driverState === 'online' ? 'online' : 'unknown';
  return stale ? 'stale' : 'online';
}

export { deviceActivity };
