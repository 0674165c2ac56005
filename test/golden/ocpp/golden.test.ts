import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readGoldenFiles } from '../../helpers/golden.js';
import { loadProfiles, profilesOf } from '../../../gateway/site/profiles.js';
import { ocppDriverFactory } from '../../../drivers/ocpp/index.js';
import { from201, meterReadings, statusReading, type MeterValue, type MeterValue201 } from '../../../drivers/ocpp/decode.js';
import type { OcppProfile } from '../../../drivers/ocpp/profile-schema.js';

interface Golden {
  profile: string;
  device: string;
  version?: 'ocpp2.0.1';
  cases: { name: string; action: 'StatusNotification' | 'MeterValues'; payloads: Record<string, unknown>[]; readings: { metric: string; value: unknown; unit?: string; ts: string }[]; reject?: string[] }[];
}

const { profiles, problems } = loadProfiles([ocppDriverFactory]);
const mine = profilesOf(profiles, ocppDriverFactory) as unknown as Map<string, OcppProfile>;

describe('OCPP profile golden cases (payloads as the standard writes them → readings)', () => {
  it('every OCPP profile loads and passes its checks', () => {
    expect(problems.filter((p) => !/unknown or missing protocol/.test(p.message))).toEqual([]);
    expect([...mine.keys()]).toEqual(expect.arrayContaining(['ocpp16-charger', 'ocpp201-charger']));
    for (const p of mine.values()) expect(ocppDriverFactory.checkProfile?.({ ...p, file: '' }) ?? []).toEqual([]);
  });

  for (const g of readGoldenFiles<Golden>(join(import.meta.dirname))) {
    it(`${g.file}: ${g.cases.length} cases`, () => {
      const profile = mine.get(g.profile);
      expect(profile, g.profile).toBeDefined();
      if (!profile) return;
      for (const c of g.cases) {
        const got: unknown[] = [];
        const rejected: string[] = [];
        for (const p of c.payloads) {
          if (c.action === 'StatusNotification') {
            const r = statusReading(profile, g.device, (g.version ? p['connectorStatus'] : p['status']) as string, Date.parse(p['timestamp'] as string));
            if (r.ok) got.push(r.value);
            else rejected.push(r.reason);
          } else {
            const mv = g.version ? from201(p['meterValue'] as MeterValue201[]) : (p['meterValue'] as MeterValue[]);
            const r = meterReadings(profile, g.device, mv);
            got.push(...r.readings);
            rejected.push(...r.problems.map((x) => x.reason));
          }
        }
        const want = c.readings.map((r) => ({ device: g.device, metric: r.metric, value: r.value, ...(r.unit !== undefined ? { unit: r.unit } : {}), ts: Date.parse(r.ts) }));
        expect(got, `${g.file} › ${c.name}`).toEqual(want);
        expect(rejected, `${g.file} › ${c.name} (refusals)`).toEqual(c.reject ?? []);
      }
    });
  }
});
