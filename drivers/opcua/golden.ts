import type { DeviceConfig } from '../../gateway/model/site-config.js';
import type { GoldenDecoded, GoldenDoc } from '../core/golden.js';
import type { Loaded } from '../profiles/schema.js';
import { planDevice } from './nodes.js';
import type { OpcuaProfile } from './profile-schema.js';
import { DT, toReading } from './quality.js';
import { unitFromEu, unitIdOf } from './units.js';

/**
 * OPC UA golden cases: one DataValue as a server sends it (status, value, timestamps, the node's
 * EngineeringUnits) → the reading of the driver's own mapping (planDevice, unitFromEu, toReading).
 *
 * ```yaml
 * profile: my-station
 * cases:
 *   - name: …
 *     device: { id: st-hp-1, class: heat_pump, options: { folder: HP1 } }
 *     metric: electric_power
 *     eu: KWT                      # UNECE common code of EngineeringUnits (eu_text: its display name)
 *     value: { type: Double, value: 21.25 }
 *     status: Good                 # or a StatusCode number
 *     source: 2024-11-22T02:00:00.250Z
 *     server: 2024-11-22T02:00:01Z
 *     received: 2024-11-22T02:00:02Z
 *     sample: { value: 21250, quality: good, ts: 2024-11-22T02:00:00.250Z }   # or readings / samples
 * ```
 */

/** StatusCode values of the names cases may use (OPC 10000-4, the status code table). */
export const STATUS: Readonly<Record<string, number>> = {
  Good: 0,
  BadSensorFailure: 0x808b0000,
  BadNoCommunication: 0x80310000,
  UncertainLastUsableValue: 0x40900000,
};
const TYPE: Readonly<Record<string, number>> = { Double: DT.Double, UInt16: 5, String: DT.String, Int64: DT.Int64 };

interface OpcuaCase {
  device?: { id?: string; class?: string; options?: Record<string, string> };
  metric: string;
  eu?: string;
  eu_text?: string;
  /** The unit in effect, as a recording knows it (instead of `eu`). */
  unit?: string;
  /** `type`: a DataType name of the table below, or its number (as a recording keeps it). */
  value?: { type: string | number; value: unknown };
  status?: string | number | { value: number; name: string };
  source?: string;
  server?: string;
  received?: string;
}

export function opcuaGolden(profile: Loaded<OpcuaProfile>, doc: GoldenDoc): Promise<GoldenDecoded[]> {
  return Promise.resolve(
    doc.cases.map((raw): GoldenDecoded => {
      const c = raw as unknown as OpcuaCase;
      const cls = c.device?.class ?? (profile.classes[0] as string);
      const id = c.device?.id ?? 'golden';
      const none = { class: cls, device: id, readings: [], events: [] };
      const device: DeviceConfig = { id, class: cls, connection: 'golden', profile: profile.id, tags: {}, options: c.device?.options ?? {}, enabled: true };
      const node = planDevice(device, profile).find((n) => n.metric === c.metric);
      if (!node) return { ...none, problems: [`profile ${profile.id} has no node for ${cls}.${c.metric}`] };
      const eu = c.eu !== undefined ? (unitFromEu({ unitId: unitIdOf(c.eu), displayName: { text: c.eu_text ?? c.eu } }) ?? c.eu_text) : undefined;
      const unit = c.unit ?? eu ?? node.unit;
      const st = c.status;
      const code = typeof st === 'object' ? st.value : typeof st === 'number' ? st : STATUS[st ?? 'Good'];
      if (code === undefined) return { ...none, problems: [`unknown status ${String(st)} (known: ${Object.keys(STATUS).join(', ')}, or a number)`] };
      const dv = {
        value: c.value ? { dataType: typeof c.value.type === 'number' ? c.value.type : (TYPE[c.value.type] ?? 0), value: c.value.value } : null,
        statusCode: { value: code, name: typeof st === 'object' ? st.name : typeof st === 'string' ? st : 'Good' },
        sourceTimestamp: c.source ? new Date(c.source) : null,
        serverTimestamp: c.server ? new Date(c.server) : null,
      };
      const received = Date.parse(c.received ?? '2024-11-22T03:00:00Z');
      const reading = toReading(id, { metric: node.metric, ...(unit ? { unit } : {}), ...(node.map ? { map: node.map } : {}) }, dv, received);
      return { class: cls, device: id, readings: [reading], events: [] };
    }),
  );
}
