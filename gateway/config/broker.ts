import { z } from 'zod';
import { duration, size, strict } from '../model/zod-helpers.js';

/** The embedded MQTT broker's section of the config: its listener, users with their topic rights, TLS and limits. */

const brokerUser = strict({
  username: z.string().min(1),
  /** scrypt hash from `fcgw hash-password`; never a clear-text password. */
  password_hash: z.string().regex(/^scrypt\$/, 'must be a hash from `fcgw hash-password` (starts with "scrypt$")'),
  /**
   * Topic filters this user may publish to / subscribe to; `{username}` expands to the user's
   * name. Nothing by default: a user gets only what is listed (`#` never covers `$SYS`).
   */
  publish: z.array(z.string()).default([]),
  subscribe: z.array(z.string()).default([]),
  /** Client ids this user may connect with (overrides broker.embedded.client_ids). */
  client_ids: z.array(z.string().min(1)).optional(),
});

const brokerTls = strict({
  /** Listen address of the mqtts listener (default: broker.embedded.host). */
  host: z.string().optional(),
  port: z.number().int().min(0).max(65535).default(8883),
  /** PEM files: the broker's certificate (chain) and private key. */
  cert: z.string(),
  key: z.string(),
  /** PEM file of the CA that signs client certificates. */
  ca: z.string().optional(),
  /**
   * `none`: passwords only. `optional`: a client certificate signed by `ca` logs in as the user
   * named by its CN, without a password; clients without one use their password. `require`: the
   * TLS handshake fails without a valid client certificate.
   */
  client_certificates: z.enum(['none', 'optional', 'require']).default('none'),
});

export const brokerSchema = strict({
  embedded: strict({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(1883),
    users: z.array(brokerUser).default([]),
    /** Open sockets, counted from accept (logged in or not). */
    max_clients: z.number().int().positive().default(2000),
    max_payload: size('256kB'),
    /** Largest packet before CONNECT is accepted (CONNECT with its will); bigger closes the socket. */
    max_connect_packet: size('8kB'),
    /** A socket that has not completed a valid CONNECT within this time is closed. */
    connect_timeout: duration('10s'),
    /** Failed logins from one address within login_failure_window before it is refused outright. */
    max_login_failures: z.number().int().positive().default(10),
    login_failure_window: duration('1m'),
    /** Client ids a user may take (`{username}` expands, `*` any run of characters). */
    client_ids: z.array(z.string().min(1)).min(1).default(['{username}', '{username}-*']),
    /** An mqtts listener beside the plain one. */
    tls: brokerTls.optional(),
  }).optional(),
});
