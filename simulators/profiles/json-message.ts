import type { MqttProfile } from '../../drivers/mqtt/profile-schema.js';

/**
 * The JSON message a device of a json-envelope MQTT profile would send with these values: each
 * reading's path set to its metric's value (in the reading's unit), the message timestamp at the
 * profile's timestamp path in its format; a passthrough profile gets `{<values path>: {metric:
 * value}}`. Readings with conditions or per-hour lists are left out (they need a device model).
 */
export function jsonMessage(p: MqttProfile, values: Record<string, unknown>, now: number): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  const set = (path: string, v: unknown) => {
    const keys = path.split('.');
    let at = msg;
    for (const k of keys.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[keys[keys.length - 1] as string] = v;
  };
  const stamp = Array.isArray(p.timestamp) ? p.timestamp[0] : p.timestamp;
  if (stamp && !stamp.path.startsWith('$')) set(stamp.path, stamp.format === 'epoch_s' ? Math.floor(now / 1000) : stamp.format === 'iso' ? new Date(now).toISOString() : now);
  if (p.passthrough?.values) {
    set(p.passthrough.values, values);
    return msg;
  }
  for (const r of p.readings) {
    if (r.when !== undefined || r.each !== undefined || r.path.startsWith('$') || !(r.metric in values)) continue;
    set(r.path, values[r.metric]);
  }
  return msg;
}
