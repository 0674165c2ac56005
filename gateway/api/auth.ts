import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../model/clock.js';
import type { GatewayMetrics } from '../runtime/metrics.js';
import { RateLimitedLog } from '../runtime/log.js';
import { ApiError } from './params.js';

/**
 * Who may call what. Each route lives in an encapsulated fastify context whose onRequest hook
 * demands one access level, so the decision follows the route the router matched (after its own
 * decoding), never a spelling of the URL. The Host check runs on every request when no token
 * protects the API, so a page on another site cannot reach it through DNS rebinding.
 */

export type Scope = 'read' | 'admin';
/** `public`: served without a token (the dashboard's files, which hold no data). */
export type Access = 'public' | Scope;

export interface AuthOptions {
  /** Tokens of scope read (api.tokens). */
  readTokens: readonly string[];
  /** Tokens of scope admin (api.admin_tokens), with their names; they may also read. */
  adminTokens: readonly { name: string; token: string }[];
  /** The address the API listens on: accepted in Host headers (unless a wildcard). */
  listenHost: string;
  /** More names accepted in Host headers (api.allowed_hosts). */
  allowedHosts: readonly string[];
}

/** The name of the token each authorised request presented (for the audit log). */
const CALLERS = new WeakMap<FastifyRequest, string>();

/** Who made a request: its token's name (`admin-1`, a configured name), or `anonymous` where no token is needed. */
export function callerOf(req: FastifyRequest): string {
  return CALLERS.get(req) ?? 'anonymous';
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export class ApiGuard {
  private readonly tokens: { digest: Buffer; scope: Scope; name: string }[];
  private readonly hosts: ReadonlySet<string>;
  private readonly refusals: RateLimitedLog;
  /** True when at least one token is configured: every non-public route needs one. */
  readonly tokenRequired: boolean;
  /** True when Host headers are checked: no token protects the API, or names were configured. */
  readonly hostChecked: boolean;

  constructor(
    opts: AuthOptions,
    private readonly metrics: GatewayMetrics,
    log: Logger,
    clock: Clock,
  ) {
    // Digests have one length, so comparing them in constant time says nothing about a token's length.
    this.tokens = [
      ...opts.readTokens.map((t, i) => ({ digest: sha256(t), scope: 'read' as const, name: `read-${i + 1}` })),
      ...opts.adminTokens.map((t) => ({ digest: sha256(t.token), scope: 'admin' as const, name: t.name })),
    ];
    this.tokenRequired = this.tokens.length > 0;
    this.hostChecked = !this.tokenRequired || opts.allowedHosts.length > 0;
    this.hosts = new Set([opts.listenHost, ...opts.allowedHosts].map(normaliseHost).filter((h): h is string => h !== undefined && !WILDCARDS.has(h)));
    this.refusals = new RateLimitedLog(log, () => clock.now(), 5, 60_000, 20);
  }

  /** onRequest hook of a context whose routes need `need`; also removes `access_token` from the query. */
  requireScope(need: Scope): onRequestAsyncHookHandler {
    return async (req) => {
      const given = takeToken(req);
      if (need === 'read' && !this.tokenRequired) return;
      if (need === 'admin' && !this.tokens.some((t) => t.scope === 'admin'))
        throw this.refuse(req, 403, 'FORBIDDEN', 'forbidden', 'this route needs an admin token and none is configured (api.admin_tokens)');
      if (given === undefined) throw this.refuse(req, 401, 'UNAUTHORISED', 'unauthorised', 'a valid bearer token is required');
      const found = given === null ? undefined : this.tokenOf(given);
      if (!found) throw this.refuse(req, 401, 'UNAUTHORISED', 'unauthorised', 'a valid bearer token is required');
      if (need === 'admin' && found.scope !== 'admin') throw this.refuse(req, 403, 'FORBIDDEN', 'forbidden', 'this route needs a token of scope admin');
      CALLERS.set(req, found.name);
    };
  }

  /** onRequest hook of the root: the Host header must name this gateway (when checked). */
  readonly checkHost: onRequestAsyncHookHandler = async (req) => {
    if (!this.hostChecked) return;
    const host = normaliseHost(req.headers.host);
    if (host !== undefined && (this.hosts.has(host) || isLoopbackName(host))) return;
    throw this.refuse(req, 403, 'HOST_NOT_ALLOWED', 'host', 'this gateway does not answer to that Host name (api.allowed_hosts)');
  };

  /** The scope of a presented token, compared in constant time with every configured one. */
  scopeOf(given: string): Scope | undefined {
    return this.tokenOf(given)?.scope;
  }

  /** The configured token a presented one is (admin first), compared in constant time with every one. */
  private tokenOf(given: string): { scope: Scope; name: string } | undefined {
    const d = sha256(given);
    let found: { scope: Scope; name: string } | undefined;
    for (const t of this.tokens) if (timingSafeEqual(t.digest, d) && found?.scope !== 'admin') found = t;
    return found;
  }

  private refuse(req: FastifyRequest, status: number, code: string, reason: string, message: string): ApiError {
    this.metrics.apiRefused.inc({ reason });
    // The path only: a query may carry an access_token, wrong or not.
    const path = pathOf(req.url);
    this.refusals.warn(`${reason}:${req.ip}`, { reason, ip: req.ip, method: req.method, path, status }, 'API request refused', `api-${reason}`);
    return new ApiError(status, code, message, status === 401 ? { 'www-authenticate': 'Bearer realm="fcgw"' } : undefined);
  }
}

/** A request URL without its query (what may be logged of it). */
export function pathOf(url: string): string {
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)).slice(0, 200);
}

/**
 * The token a request presents: `Authorization: Bearer …`, else the `access_token` query
 * parameter (EventSource cannot set headers). `null` for a malformed header or a repeated
 * parameter. The parameter is removed from the query either way, so routes never see it (and
 * their strict parameter checks do not call it unknown).
 */
function takeToken(req: FastifyRequest): string | undefined | null {
  const query = req.query as Record<string, unknown> | null | undefined;
  const fromQuery = query?.['access_token'];
  if (query && 'access_token' in query) {
    delete query['access_token'];
    // Out of the raw URL too: whatever logs a request later (fastify's own warnings) cannot show it.
    req.raw.url = withoutToken(req.raw.url ?? '');
  }
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
    return m ? (m[1] as string) : null;
  }
  if (fromQuery === undefined) return undefined;
  return typeof fromQuery === 'string' ? fromQuery : null;
}

/** A URL with every `access_token` parameter removed (however its name was encoded). */
export function withoutToken(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const kept = url
    .slice(q + 1)
    .split('&')
    .filter((pair) => {
      const name = pair.split('=')[0] ?? '';
      try {
        return decodeURIComponent(name.replace(/\+/g, ' ')) !== 'access_token';
      } catch {
        return true;
      }
    });
  return kept.length ? `${url.slice(0, q)}?${kept.join('&')}` : url.slice(0, q);
}

const WILDCARDS = new Set(['0.0.0.0', '[::]']);

/** A Host header (or a configured name) → lower-case host without port or trailing dot; undefined if malformed. */
export function normaliseHost(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const h = value.trim().toLowerCase();
  let host: string;
  let rest: string;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end === -1) return undefined;
    host = h.slice(0, end + 1);
    rest = h.slice(end + 1);
  } else if (h.split(':').length > 2) {
    // A bare IPv6 address: only as a configured name (a Host header puts it in brackets).
    host = `[${h}]`;
    rest = '';
  } else {
    const colon = h.indexOf(':');
    host = colon === -1 ? h : h.slice(0, colon);
    rest = colon === -1 ? '' : h.slice(colon);
  }
  if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (!/^(\[[0-9a-f:.]+\]|[a-z0-9._-]+)$/.test(host)) return undefined;
  return host;
}

/** Names that can only mean this machine: a rebinding attacker controls none of them. */
function isLoopbackName(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
