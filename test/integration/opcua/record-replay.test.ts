import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Recording } from '../../../drivers/core/recording.js';
import { opcuaDriverFactory } from '../../../drivers/opcua/index.js';
import { AcceleratedClock } from '../../../gateway/model/clock.js';
import { runGoldenDoc } from '../../../gateway/golden/run.js';
import type { StationGroup } from '../../../simulators/opcua/index.js';
import { freePort, tempDir, waitFor } from '../../helpers/peers.js';
import { collect, driver, fastProfile, opcuaConnection, station, stationDevices, stationScenario } from './harness.js';

/**
 * `fcgw record` on an OPC UA device (the station simulator's heat pump, a real node-opcua server)
 * while the driver reads it live; the recording replayed offline through the golden runner gives
 * readings the live driver also produced, value for value and timestamp for timestamp.
 */
const tmp = tempDir('fcgw-opcua-rec-');
const gwDir = join(tmp.dir, 'gateway');
let sim: StationGroup;
let port: number;
const clock = new AcceleratedClock(Date.now() - 3_600_000, 60);

beforeAll(async () => {
  port = await freePort();
  sim = station(stationScenario(port), clock, 60);
  await sim.start();
}, 20_000);

afterAll(async () => {
  await sim.stop();
  tmp.cleanup();
});

describe('fcgw record / replay on an OPC UA device', () => {
  it('records DataValues with status, type, timestamps and unit; the replay gives readings the live driver stored', async () => {
    const conn = opcuaConnection(port);
    const profile = fastProfile();
    const c = collect(gwDir);
    const live = driver(conn, stationDevices('station'), c, profile);
    await live.start();
    await waitFor(() => c.last('hp-1', 'thermal_total'), 10_000);
    const hp1 = stationDevices('station').find((d) => d.id === 'hp-1');
    if (!hp1) throw new Error('no hp-1');
    const rec: Recording = { format: 'fcgw-recording/1', protocol: 'opcua', profile: 'energy-station', device: { id: 'hp-1', class: 'heat_pump', options: hp1.options }, started: new Date().toISOString(), entries: [] };
    await opcuaDriverFactory.record?.({ connection: conn, device: hp1, profile, durationMs: 2000, dataDir: gwDir, pseudonym: String, entry: (e) => rec.entries.push(e) });
    await new Promise((r) => setTimeout(r, 500));
    await live.stop();

    const metrics = new Set(rec.entries.map((e) => ('metric' in e ? e.metric : '')));
    expect(metrics.has('thermal_total') && metrics.has('supply_temp') && metrics.has('mode')).toBe(true);
    const total = rec.entries.find((e) => 'metric' in e && e.metric === 'thermal_total');
    expect(total).toMatchObject({ unit: 'kWh', status: { value: 0 } });

    const doc = opcuaDriverFactory.fromRecording?.(profile, rec);
    if (!doc) throw new Error('no replay');
    const report = await runGoldenDoc({ ...doc, cases: doc.cases.map((x) => ({ ...x, samples: [] })) }, profile, opcuaDriverFactory as never);
    expect(report.problems).toEqual([]);
    const replayed = report.cases.flatMap((x) => x.got.readings);
    expect(replayed.length).toBe(rec.entries.length);
    const key = (r: { metric: unknown; ts: unknown; value: unknown; unit?: unknown; quality?: unknown }) => JSON.stringify([r.metric, r.ts, r.value, r.unit ?? null, r.quality ?? null]);
    const liveKeys = new Set(c.readings.filter((r) => r.device === 'hp-1').map((r) => key(r)));
    const unmatched = replayed.filter((r) => !liveKeys.has(key(r as never)));
    expect(unmatched).toEqual([]);
    // Through the pipeline: samples in catalog units (kWh → Wh).
    const sample = report.cases.find((x) => x.name.startsWith('thermal_total'))?.got.samples[0];
    const reading = report.cases.find((x) => x.name.startsWith('thermal_total'))?.got.readings[0];
    expect(Number(sample?.['value'])).toBeCloseTo(Number(reading?.['value']) * 1000, 3);
  }, 30_000);
});
