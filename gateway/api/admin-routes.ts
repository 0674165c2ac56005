import type { FastifyInstance } from 'fastify';
import { ApiError } from './params.js';
import type { ApiContext } from './context.js';

/** Routes that change the running gateway (registered in the context that needs an admin token). */
export function registerAdminRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const log = ctx.log.child({ part: 'api' });
  // Admin routes take no body; whatever a client sends (curl -d '', an empty JSON body) is read
  // up to 4 kB and ignored rather than refused for its type. Bodies are read only after the
  // admin check passed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 4096 }, (_req, _body, done) => done(null, undefined));

  // The same reload as SIGHUP. It may restart the gateway, this API included, so the answer is
  // "accepted" and the outcome goes to the log, as it does for a signal.
  app.post('/api/reload', async (req, reply) => {
    const reload = ctx.reload;
    if (!reload) throw new ApiError(503, 'RELOAD_UNAVAILABLE', 'this gateway was not started by `fcgw start`: there is no config file to reload');
    log.info({ ip: req.ip }, 'config reload requested over the API');
    try {
      void Promise.resolve(reload()).catch((err: unknown) => log.error({ err }, 'config reload requested over the API failed'));
    } catch (err) {
      log.error({ err }, 'config reload requested over the API failed');
      throw new ApiError(500, 'RELOAD_FAILED', 'the reload could not be started; see the log');
    }
    return reply.code(202).send({ status: 'reloading', message: 'the config file is read again, as on SIGHUP; the outcome is in the log' });
  });
}
