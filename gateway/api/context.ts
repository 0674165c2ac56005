import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { ApiConfig } from '../config/schema.js';
import type { Clock } from '../model/clock.js';
import type { GatewayMetrics } from '../runtime/metrics.js';
import type { Store } from '../store/store.js';
import type { Access } from './auth.js';
import type { LiveHub } from './live.js';

/** What the API is built from, and the shapes the route modules share (server.ts builds it). */

export interface DeviceView {
  id: string;
  name?: string;
  class: string;
  connection: string;
  profile: string;
  tags: Record<string, string>;
  status: 'online' | 'offline' | 'stale' | 'quarantined' | 'unknown';
  lastSeen: string | null;
  quality: string | null;
  error?: string;
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  site: string;
  site_name?: string;
  timezone?: string;
  uptime_s: number;
  drivers: unknown[];
  sinks: unknown[];
  store: Record<string, unknown>;
  broker?: Record<string, unknown>;
}

export interface ApiContext {
  store: Store;
  metrics: GatewayMetrics;
  clock: Clock;
  log: Logger;
  live: LiveHub;
  /** Tokens of scope read (api.tokens). */
  tokens: readonly string[];
  /** The rest of the api section (admin tokens, allowed hosts, limits); its defaults where absent. */
  api?: Partial<Pick<ApiConfig, 'host' | 'admin_tokens' | 'allowed_hosts' | 'limits'>>;
  /** What POST /api/reload (admin) triggers: the same reload as SIGHUP. Absent: the route answers 503. */
  reload?: () => unknown;
  health(): HealthReport;
  devices(): DeviceView[];
}

/**
 * A route module added by another part of the gateway (KPIs, the dashboard). Its routes need a
 * read token unless it says otherwise: `access = 'public'` only for modules that serve no data.
 */
export type ApiPlugin = ((app: FastifyInstance) => void | Promise<void>) & { access?: Access };

/** A registered route and the access it needs (for tests and for the startup check below). */
export interface ApiRoute {
  method: string;
  url: string;
  access: Access;
}
