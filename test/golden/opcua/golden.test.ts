import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { CATALOG } from '../../../gateway/model/catalog.js';
import { CounterState } from '../../../gateway/pipeline/counters.js';
import { Dedupe, normalise } from '../../../gateway/pipeline/normalise.js';
import { Pseudonymiser } from '../../../gateway/pipeline/pseudonymise.js';
import { DRIVERS } from '../../../drivers/index.js';
import { planDevice } from '../../../drivers/opcua/nodes.js';
import type { OpcuaProfile } from '../../../drivers/opcua/profile-schema.js';
import { DT, toReading } from '../../../drivers/opcua/quality.js';
import { unitFromEu, unitIdOf } from '../../../drivers/opcua/units.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';

/**
 * Golden cases: one OPC UA DataValue (status, value, timestamps, the node's EngineeringUnits) →
 * the stored sample, through the driver's own mapping (planDevice, unitFromEu, toReading) and the
 * real normaliser. One YAML file per profile.
 */

const DIR = import.meta.dirname;
const { profiles } = loadProfiles(DRIVERS);

/** StatusCode values of the names the cases use (OPC 10000-4 / the OPC UA status table). */
const STATUS: Record<string, number> = {
  Good: 0,
  BadSensorFailure: 0x808b0000,
  BadNoCommunication: 0x80310000,
  UncertainLastUsableValue: 0x40900000,
};
const TYPE: Record<string, number> = { Double: DT.Double, UInt16: 5, String: DT.String, Int64: DT.Int64 };

interface Case {
  name: string;
  device: { id: string; class: string; options: Record<string, string> };
  metric: string;
  eu?: string;
  eu_text?: string;
  value?: { type: string; value: unknown };
  status?: string | number;
  source?: string;
  server?: string;
  received?: string;
  sample: { value: unknown; quality: string; reason?: string; ts: string };
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));

describe.each(files)('golden %s', (file) => {
  const doc = parse(readFileSync(join(DIR, file), 'utf8')) as { profile: string; cases: Case[] };
  const profile = profiles.get(doc.profile) as unknown as OpcuaProfile;

  it.each(doc.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(profile).toBeDefined();
    const device: DeviceConfig = { id: c.device.id, class: c.device.class, connection: 'station', profile: doc.profile, tags: {}, options: c.device.options, enabled: true };
    const node = planDevice(device, profile).find((n) => n.metric === c.metric);
    if (!node) throw new Error(`profile ${doc.profile} has no ${c.device.class}.${c.metric}`);
    const eu = c.eu !== undefined ? unitFromEu({ unitId: unitIdOf(c.eu), displayName: { text: c.eu_text ?? c.eu } }) ?? c.eu_text : undefined;
    const unit = eu ?? node.unit;
    const code = typeof c.status === 'number' ? c.status : STATUS[c.status ?? 'Good'];
    if (code === undefined) throw new Error(`unknown status ${String(c.status)}`);
    const name = typeof c.status === 'string' ? c.status : 'Good';
    const dv = {
      value: c.value ? { dataType: TYPE[c.value.type] ?? 0, value: c.value.value } : null,
      statusCode: { value: code, name },
      sourceTimestamp: c.source ? new Date(c.source) : null,
      serverTimestamp: c.server ? new Date(c.server) : null,
    };
    const received = Date.parse(c.received ?? '2024-11-22T03:00:00Z');
    const reading = toReading(device.id, { metric: node.metric, ...(unit ? { unit } : {}), ...(node.map ? { map: node.map } : {}) }, dv, received);
    const res = normalise(
      { readings: [reading] },
      {
        site: 'golden',
        deviceClass: (d) => (d === device.id ? device.class : undefined),
        counters: new CounterState(),
        dedupe: new Dedupe(),
        pseudo: new Pseudonymiser(Buffer.from('0123456789abcdef0123456789abcdef')),
        now: () => received,
      },
    );
    expect(res.rejections).toEqual([]);
    const s = res.samples[0];
    expect(s).toBeDefined();
    expect(CATALOG[device.class]?.metrics[c.metric]).toBeDefined();
    const want: Record<string, unknown> = { value: c.sample.value, quality: c.sample.quality, ts: Date.parse(c.sample.ts) };
    if (c.sample.reason !== undefined) want['reason'] = c.sample.reason;
    expect({ value: s?.value, quality: s?.quality, ts: s?.ts, ...(s?.reason !== undefined ? { reason: s.reason } : {}) }).toEqual(want);
    // A bad sample never carries a number.
    if (s?.quality === 'bad') expect(s.value).toBeNull();
  });
});
