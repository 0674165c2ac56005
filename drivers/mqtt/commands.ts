import { z } from 'zod';
import { commandProblems, commandSchema, commandsOf, findCommand, type CommandValue } from '../core/commands.js';
import type { DriverProblem } from '../core/driver.js';
import { expandTemplate } from './topic.js';

/**
 * MQTT commands: a JSON payload published to the device's command topic. The topic and the
 * payload's strings are templates: `{value}` is the command's value (a string that is only
 * `{value}` becomes the typed value), `{request}` the audit id, other `{name}`s the device's topic
 * levels or options. The device confirms by its own report (`verify.event` or `verify.metric`),
 * since an MQTT device cannot be read on demand.
 */

type Scalar = string | number | boolean | null;
type Json = Scalar | Scalar[] | Record<string, Scalar> | Json[] | { [k: string]: Json };
const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
/** Payload fields: values, lists of values, or one level of objects (enough for vendor command JSON). */
const field = z.union([scalar, z.array(scalar), z.record(z.string(), z.union([scalar, z.array(scalar)]))]);

export const mqttWriteSchema = z.strictObject({
  topic: z.string().min(1),
  payload: z.record(z.string(), field),
  qos: z.union([z.literal(0), z.literal(1)]).default(1),
});
export type MqttWrite = z.infer<typeof mqttWriteSchema>;

export const mqttCommandSchema = commandSchema(mqttWriteSchema);

export class MqttCommandError extends Error {
  constructor(
    readonly code: 'MQTT_COMMAND_UNKNOWN' | 'MQTT_COMMAND_TOPIC' | 'MQTT_NOT_CONNECTED',
    message: string,
  ) {
    super(message);
  }
}

/** The topic and payload of one command for a device whose topic levels are `vars`. */
export function commandMessage(profile: object, cls: string, name: string, value: CommandValue, vars: Readonly<Record<string, string>>): { topic: string; payload: string; qos: 0 | 1 } {
  const def = findCommand(profile, cls, name);
  if (!def) throw new MqttCommandError('MQTT_COMMAND_UNKNOWN', `no command ${name} for a ${cls}`);
  const w = def.write as MqttWrite;
  const topic = expandTemplate(w.topic, (k) => vars[k]);
  if (topic === undefined || /[+#]/.test(topic) || topic.includes(String.fromCharCode(0))) throw new MqttCommandError('MQTT_COMMAND_TOPIC', `cannot build the command topic from ${w.topic}`);
  const fill = (j: Json): Json => {
    if (typeof j === 'string') {
      if (j === '{value}') return value;
      return j.replace(/\{([a-z_]+)\}/g, (m, k: string) => (k === 'value' ? String(value) : (vars[k] ?? m)));
    }
    if (Array.isArray(j)) return j.map(fill);
    if (j !== null && typeof j === 'object') return Object.fromEntries(Object.entries(j).map(([k, v]) => [k, fill(v)]));
    return j;
  };
  return { topic, payload: JSON.stringify(fill(w.payload as Json)), qos: w.qos };
}

export function mqttCommandProblems(profile: object & { classes: readonly string[] }): DriverProblem[] {
  const out: DriverProblem[] = commandProblems(profile);
  commandsOf(profile).forEach((c, i) => {
    if (c.verify.event === undefined && c.verify.metric === undefined)
      out.push({ path: ['commands', i, 'verify'], message: 'an mqtt command needs the event or metric by which the device confirms it (verify.event or verify.metric)' });
    const w = c.write as MqttWrite;
    if (/[+#]/.test(w.topic)) out.push({ path: ['commands', i, 'write', 'topic'], message: 'a command topic cannot hold wildcards' });
  });
  return out;
}
