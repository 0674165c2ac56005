import { z } from 'zod';
import { duration, slug, strict } from '../../gateway/model/zod-helpers.js';

/** OCPP-J subprotocols this driver answers as central system (2.0.1: the core of the Core profile). */
export const OCPP_VERSIONS = ['ocpp1.6', 'ocpp2.0.1'] as const;
export type OcppVersion = (typeof OCPP_VERSIONS)[number];

const tls = strict({
  /** PEM files (paths). Security profile 2: the charge point checks this certificate. */
  cert: z.string(),
  key: z.string(),
  ca: z.string().optional(),
});

const authorize = strict({
  /** `accept_all`: every id tag may charge; `allow_list`: only `id_tags`. */
  mode: z.enum(['accept_all', 'allow_list']).default('accept_all'),
  id_tags: z.array(z.string().min(1).max(20)).default([]),
});

/**
 * An OCPP-J listener: charge points open `ws(s)://host:port<path>/<chargePointId>`.
 * Security profile 0 (no password) is for loopback only; 1 is HTTP Basic with the charge point's
 * password (username = its id); 2 is 1 over TLS.
 */
export const ocppConnectionSchema = strict({
  id: slug,
  protocol: z.literal('ocpp'),
  host: z.string().default('0.0.0.0'),
  /** 0 picks a free port (tests). */
  port: z.number().int().min(0).max(65_535).default(9220),
  path: z
    .string()
    .default('/ocpp')
    .refine((p) => /^\/([A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*)?$/.test(p) && !p.split('/').some((s) => s === '.' || s === '..'), 'a path such as "/ocpp": "/" then segments of letters, digits, ".", "_", "~", "-" (not "." or ".."), no trailing "/"'),
  versions: z.array(z.enum(OCPP_VERSIONS)).min(1).default(['ocpp1.6']),
  security_profile: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
  /** Per charge point password (by charge point id), usually `${ENV}`. */
  passwords: z.record(z.string(), z.string()).default({}),
  /** Password of a charge point a discovery rule admits that has none in `passwords`. */
  password: z.string().optional(),
  tls: tls.optional(),
  /** Told to each charge point in the BootNotification answer. */
  heartbeat_interval: duration('5m'),
  authorize: authorize.default({ mode: 'accept_all', id_tags: [] }),
  /** How long a call to a charge point may wait for its answer. */
  call_timeout: duration('30s'),
  /**
   * Proxy mode: the operator's central system (ws:// or wss://, without the charge point id).
   * Each charger's connection is mirrored there with its identity and credentials; the gateway
   * only reads, and answers as central system only while the upstream is down.
   */
  upstream: z
    .string()
    .refine((u) => /^wss?:\/\/[^/\s]+(\/[^\s]*)?$/.test(u) && !u.endsWith('/'), 'a ws:// or wss:// URL without a trailing "/", e.g. wss://operator.example/ocpp')
    .optional(),
  /** CA certificate (PEM file) the upstream's certificate is checked against, besides the system's. */
  upstream_ca: z.string().optional(),
  /** Upper bound on charge points connected at once (a flood of identities is refused). */
  max_charge_points: z.number().int().min(1).max(100_000).default(1000),
});

export type OcppConnection = z.infer<typeof ocppConnectionSchema>;

/** A charge point identity as OCPP allows it in a URL: unreserved characters, at most 48 (2.0.1's limit). */
export const CHARGE_POINT_ID = /^[A-Za-z0-9._~:-]{1,48}$/;
