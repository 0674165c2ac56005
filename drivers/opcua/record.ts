import pino from 'pino';
import type { GoldenDoc } from '../core/golden.js';
import type { RecordArgs, Recording } from '../core/recording.js';
import type { Loaded } from '../profiles/schema.js';
import type { OpcuaConnection } from './connection-schema.js';
import { planDevice } from './nodes.js';
import type { OpcuaProfile } from './profile-schema.js';
import { UaLink } from './session.js';

/**
 * `fcgw record` on an OPC UA device: a session of its own monitoring the device's nodes as the
 * driver does (same plan, same resolution of browse paths and EngineeringUnits), each DataValue
 * kept with its status, value type, source and server timestamps and the unit in effect.
 */
export async function recordOpcua(a: RecordArgs<OpcuaConnection, Loaded<OpcuaProfile>>): Promise<void> {
  const nodes = planDevice(a.device, a.profile);
  let failed: Error | undefined;
  const link = new UaLink(
    a.connection,
    nodes,
    a.dataDir ?? 'data',
    {
      data: (n, dv, t) => {
        const v = dv.value as { dataType?: number; value?: unknown } | null | undefined;
        a.entry({
          t,
          metric: n.metric,
          ...(n.mapping.unit !== undefined ? { unit: n.mapping.unit } : {}),
          value: v && v.dataType ? { type: Number(v.dataType), value: typeof v.value === 'bigint' ? String(v.value) : v.value } : null,
          status: { value: dv.statusCode?.value ?? 0, name: dv.statusCode?.name ?? 'Good' },
          ...(dv.sourceTimestamp ? { source: dv.sourceTimestamp.toISOString() } : {}),
          ...(dv.serverTimestamp ? { server: dv.serverTimestamp.toISOString() } : {}),
        });
      },
      alive: () => undefined,
      missing: () => undefined,
      lost: () => undefined,
      restored: () => undefined,
      closed: (err) => (failed = err ?? new Error('connection closed')),
      backoff: () => undefined,
    },
    Date.now,
    pino({ level: 'silent' }),
  );
  try {
    await link.open();
    a.ready?.();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, a.durationMs);
      a.signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  } finally {
    await link.close();
  }
  if (failed && !a.signal?.aborted) throw failed;
}

/** Each recorded DataValue as an OPC UA golden case (the unit in effect as recorded). */
export function opcuaFromRecording(_profile: Loaded<OpcuaProfile>, rec: Recording): GoldenDoc {
  return {
    profile: rec.profile,
    cases: rec.entries.flatMap((e, i) =>
      'metric' in e && 'status' in e
        ? [{
            name: `${e.metric} ${i + 1} at ${new Date(e.t).toISOString()}`,
            device: { id: rec.device.id, class: rec.device.class, options: rec.device.options },
            metric: e.metric,
            ...(e.unit !== undefined ? { unit: e.unit } : {}),
            ...(e.value ? { value: e.value } : {}),
            status: e.status,
            ...(e.source ? { source: e.source } : {}),
            ...(e.server ? { server: e.server } : {}),
            received: new Date(e.t).toISOString(),
          }]
        : [],
    ),
  };
}
