import { z } from 'zod';
import { duration, slug, strict } from '../../gateway/model/zod-helpers.js';

/** Schemes mqtt.js dials for a broker connection (ws/wss are not offered: no use here yet). */
export const MQTT_SCHEMES = ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:'] as const;

/** A broker URL this driver can dial, or why not (also used by the mqtt sink, which borrows a connection). */
export function mqttUrlProblem(url: string): string | undefined {
  if (url === 'embedded') return undefined;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return `"${url}" is not a URL (use mqtt://host:1883, mqtts://host:8883 or "embedded")`;
  }
  if (!(MQTT_SCHEMES as readonly string[]).includes(u.protocol)) return `${u.protocol}// is not a scheme this driver speaks (use ${MQTT_SCHEMES.map((s) => `${s}//`).join(', ')})`;
  if (!u.hostname) return `"${url}" names no host`;
  return undefined;
}

const tls = strict({
  ca: z.string().optional(),
  cert: z.string().optional(),
  key: z.string().optional(),
  reject_unauthorized: z.boolean().default(true),
});

/** An MQTT connection: one broker session, or `embedded` for the gateway's own broker. */
export const mqttConnectionSchema = strict({
  id: slug,
  protocol: z.literal('mqtt'),
  /** `embedded` connects to the gateway's own broker. */
  url: z.string().default('embedded').superRefine((url, ctx) => {
    const problem = mqttUrlProblem(url);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  username: z.string().optional(),
  password: z.string().optional(),
  client_id: z.string().optional(),
  protocol_version: z.union([z.literal(4), z.literal(5)]).default(4),
  clean: z.boolean().default(false),
  keepalive: duration('30s'),
  reconnect_min: duration('500ms'),
  reconnect_max: duration('30s'),
  tls: tls.optional(),
});

export type MqttConnection = z.infer<typeof mqttConnectionSchema>;
