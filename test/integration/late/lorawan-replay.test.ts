import { describe, expect, it } from 'vitest';
import { KpiPass } from '../../../gateway/kpi/compute.js';
import { calculatorOptions } from '../../../gateway/kpi/engine.js';
import { windowAt } from '../../../gateway/kpi/windows.js';
import { HOUR, testConfig } from '../kpi/fixtures.js';
import { lateRig } from './rig.js';

/**
 * A LoRaWAN water meter goes offline for 24 h (the gateway sees it fall silent), buffers its
 * hourly uplinks and replays them when it is back, after newer uplinks of its neighbours, through
 * ChirpStack's MQTT integration, aedes, the MQTT driver and the real ingest queue. Every hour is
 * stored at its own time, no counter reset is flagged, the day's volume equals the meter's ground
 * truth, and the hourly windows that overlap from one uplink to the next are stored once and
 * counted as duplicates (the store used to rewrite them, giving each a new log position).
 */

const START = Date.parse('2024-11-22T00:00:00+08:00');
const OUTAGE = { meter: 1, at: '2h', for: '24h' };
const END = START + 29 * HOUR;

describe('late data: a LoRaWAN meter replays a day', () => {
  it('stores all of it, flags no reset, and the volume KPI is exact', async () => {
    const rig = await lateRig({ start: START, end: END, speed: 14_400, scenario: { water: { potable: 2, reclaimed: 0, rainwater: 0, leak_chance_per_day: 0 }, late: { water_outage: OUTAGE } } });
    try {
      while (rig.clock.now() < END) await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 300));
      await rig.settle();
      const truth = rig.truth() as { water: { replayed: number; buffered: number; hourly_l: Record<string, number>[] } };
      expect(truth.water.buffered).toBe(0);
      expect(truth.water.replayed).toBeGreaterThanOrEqual(24);

      // Every hour of the outage is stored at its own time, with the meter's own value.
      const hourly = truth.water.hourly_l[0] as Record<string, number>;
      const rows = rig.store.samplesAfter(0, 1_000_000).filter((s) => s.device === 'wm-lora-01' && s.metric === 'volume_total');
      const byTs = new Map(rows.map((r) => [r.ts, r]));
      for (let h = START + 2 * HOUR; h < START + 26 * HOUR; h += HOUR) {
        const row = byTs.get(h + HOUR);
        expect(row, new Date(h).toISOString()).toBeDefined();
        expect((row?.value as number) * 1000).toBeCloseTo(hourly[String(h)] as number, 6);
      }
      // No counter reset or rollover anywhere on the replayed meter.
      expect(rows.filter((r) => r.quality !== 'good').map((r) => r.reason)).toEqual([]);
      expect(await rig.metric('fcgw_ingest_flagged_samples_total', 'class="water_meter",reason="counter_reset"')).toBe(0);

      // The day's potable volume (one resident: litres per resident per day = the meters' litres).
      const pass = new KpiPass(rig.store.kpiReads(), END, calculatorOptions(testConfig({ site: { id: 'late', residents: 1 } })));
      const day = windowAt('day', START, 'Asia/Shanghai');
      const [kpi] = pass.compute(day, { site: true }, ['water_per_capita']);
      const litres = truth.water.hourly_l.reduce((n, m) => n + (m[String(day.end - HOUR)] as number) - (m[String(day.start - HOUR)] as number), 0);
      expect(kpi?.value).toBeCloseTo(litres, 6);
      expect(kpi?.coverage).toBeGreaterThan(0.99);

      // Each uplink repeats 23 of the previous one's 24 hours: copies, stored once and counted.
      expect(await rig.metric('fcgw_ingest_duplicates_total', 'kind="sample"')).toBeGreaterThan(20 * 46);
      expect(await rig.metric('fcgw_ingest_rejections_total', 'reason="out_of_order"')).toBe(0);
    } finally {
      await rig.stop();
    }
  }, 60_000);
});
