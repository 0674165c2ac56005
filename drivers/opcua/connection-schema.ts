import { z } from 'zod';
import { duration, slug, strict } from '../../gateway/model/zod-helpers.js';

/** An OPC UA connection: one client session to one server endpoint. */
export const opcuaConnectionSchema = strict({
  id: slug,
  protocol: z.literal('opcua'),
  endpoint: z.string().superRefine((s, ctx) => {
    let u: URL | undefined;
    try {
      u = new URL(s);
    } catch {
      u = undefined;
    }
    if (!u || u.protocol !== 'opc.tcp:' || !u.hostname) ctx.addIssue({ code: 'custom', message: `"${s}" is not an opc.tcp://host:port endpoint` });
  }),
  security_mode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
  security_policy: z.enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).default('None'),
  username: z.string().optional(),
  password: z.string().optional(),
  /** Server certificates (PEM/DER files) to trust. */
  trusted_certificates: z.array(z.string()).default([]),
  timeout: duration('10s'),
  reconnect_max: duration('30s'),
});

export type OpcuaConnection = z.infer<typeof opcuaConnectionSchema>;
