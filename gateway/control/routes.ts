import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { callerOf } from '../api/auth.js';
import type { ApiPlugin } from '../api/context.js';
import { ApiError, parseQuery, time } from '../api/params.js';
import type { ControlService } from './service.js';

/**
 * POST /api/devices/:id/commands (admin token): one command, answered with its outcome after the
 * read-back. GET /api/commands (admin): the audit log. GET /api/devices/:id/commands (read): what
 * a device takes, for the dashboard.
 */

const deviceId = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be a device id').max(64);
const body = z.strictObject({
  command: z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a command name').max(64),
  value: z.union([z.string().max(256), z.number(), z.boolean(), z.null()]).optional(),
  dry_run: z.boolean().optional(),
  idempotency_key: z.string().regex(/^[\x21-\x7e]{1,128}$/, 'must be 1–128 visible ASCII characters').optional(),
});
const auditQuery = z.strictObject({ device: deviceId.optional(), from: time.optional(), to: time.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() });

function idOf(params: unknown): string {
  const res = deviceId.safeParse((params as { id?: unknown }).id);
  if (!res.success) throw new ApiError(400, 'BAD_PARAMETER', `device: ${res.error.issues[0]?.message ?? 'invalid'}`);
  return res.data;
}

export function controlApiPlugins(current: () => ControlService | undefined): ApiPlugin[] {
  const service = () => {
    const s = current();
    if (!s) throw new ApiError(503, 'CONTROL_UNAVAILABLE', 'commands are not available while the gateway starts or stops');
    return s;
  };
  const admin: ApiPlugin = async (app: FastifyInstance) => {
    // Its own context: the admin routes around it take no body; this one takes a small JSON one.
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 4096 }, (_req, text, done) => {
        try {
          done(null, JSON.parse(text as string) as unknown);
        } catch {
          done(new ApiError(400, 'BAD_BODY', 'the body is not JSON'), undefined);
        }
      });
      scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 4096 }, (_req, _b, done) => done(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the command as application/json'), undefined));
      scope.post('/api/devices/:id/commands', async (req, reply) => {
        const id = idOf(req.params);
        const parsed = body.safeParse(req.body ?? {});
        if (!parsed.success) throw new ApiError(400, 'BAD_BODY', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
        const header = req.headers['idempotency-key'];
        if (Array.isArray(header)) throw new ApiError(400, 'BAD_PARAMETER', 'one Idempotency-Key header at most');
        if (header !== undefined && parsed.data.idempotency_key !== undefined && header !== parsed.data.idempotency_key)
          throw new ApiError(400, 'BAD_PARAMETER', 'the Idempotency-Key header and idempotency_key differ');
        const key = parsed.data.idempotency_key ?? header;
        if (key !== undefined && !/^[\x21-\x7e]{1,128}$/.test(key)) throw new ApiError(400, 'BAD_PARAMETER', 'Idempotency-Key must be 1–128 visible ASCII characters');
        const o = await service().execute({
          device: id,
          command: parsed.data.command,
          value: parsed.data.value,
          ...(parsed.data.dry_run !== undefined ? { dryRun: parsed.data.dry_run } : {}),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
          caller: callerOf(req),
          origin: 'api',
        });
        const { http, ...rest } = o;
        const error = http >= 400 ? { error: { code: o.code ?? 'FAILED', message: o.reason ?? o.status } } : {};
        return reply.code(http).send({ ...rest, ...error });
      });
    });
    app.get('/api/commands', async (req) => {
      const q = parseQuery(auditQuery, req.query);
      return service().audit.list(q);
    });
  };
  admin.access = 'admin';
  const read: ApiPlugin = (app: FastifyInstance) => {
    app.get('/api/devices/:id/commands', async (req) => service().commandsOf(idOf(req.params)));
  };
  read.access = 'read';
  return [admin, read];
}
