import { afterAll, describe, expect, it, vi } from 'vitest';
import { busConnectionSchema, type BusConnection } from '../../../drivers/core/bus-config.js';
import type { Recording } from '../../../drivers/core/recording.js';
import { dlt645DriverFactory } from '../../../drivers/dlt645/index.js';
import { DRIVERS } from '../../../drivers/index.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';
import type { DeviceConfig } from '../../../gateway/config/schema.js';
import { runGoldenDoc } from '../../../gateway/golden/run.js';
import { startMeterBus } from '../../../simulators/servers/meter-bus.js';

/**
 * Recording a DL/T 645 meter on a simulated bus (real frames over TCP) and replaying the
 * recording through the golden runner: every poll replays byte for byte (an identifier the meter
 * refused in the first poll, and was not asked again, is still answered in the later cases), and
 * gives the meter's values.
 */
const closers: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of closers) await c();
});

describe('fcgw record / replay on a DL/T 645 meter', () => {
  it('records polls of request and reply frames; each replays to the meter\'s values', async () => {
    const address = '000000000161';
    // No export register: the meter answers "no such data" to 00020000.
    const server = await startMeterBus({ protocol: 'dlt645', meters: [{ address, edition: '2007', read: (di) => (di === '00010000' ? 1234.56 : di === '02030000' ? -1.5 : undefined) }] }, { faults: { wakeUp: 2 } });
    closers.push(() => server.close());
    const connection = busConnectionSchema('dlt645').parse({ id: 'bus', protocol: 'dlt645', host: '127.0.0.1', port: server.port, timeout: '300ms', retries: 0 }) as BusConnection;
    const profile = loadProfiles(DRIVERS).profiles.get('dlt645-meter');
    if (!profile) throw new Error('no profile');
    const device: DeviceConfig = { id: 'em-1', class: 'grid_meter', connection: 'bus', profile: 'dlt645-meter', address, poll: 400, tags: {}, options: {}, enabled: true };
    const rec: Recording = { format: 'fcgw-recording/1', protocol: 'dlt645', profile: 'dlt645-meter', device: { id: 'em-1', class: 'grid_meter', options: {}, address }, started: new Date().toISOString(), entries: [] };
    // NTP steps the wall clock an hour ahead after the first exchange (a box without a battery
    // clock): the recording still lasts its 1.3 s.
    const wall = Date.now.bind(Date);
    const step = vi.spyOn(Date, 'now');
    const entry = (e: Recording['entries'][number]) => {
      if (rec.entries.length === 0) step.mockImplementation(() => wall() + 3_600_000);
      rec.entries.push(e);
    };
    try {
      await dlt645DriverFactory.record?.({ connection, device, profile: profile as never, durationMs: 1300, pseudonym: String, entry });
    } finally {
      step.mockRestore();
    }
    const polls = new Set(rec.entries.map((e) => ('poll' in e ? e.poll : -1)));
    expect(polls.size).toBeGreaterThanOrEqual(3);
    expect(rec.entries.every((e) => 'request' in e && e.reply)).toBe(true);

    const doc = dlt645DriverFactory.fromRecording?.(profile as never, rec);
    if (!doc) throw new Error('no replay');
    const report = await runGoldenDoc({ ...doc, cases: doc.cases.map((c) => ({ ...c, readings: [{ metric: 'export_total', value: null, quality: 'bad', reason: 'not_supported' }, { metric: 'import_total', value: 1234.56, unit: 'kWh' }, { metric: 'power', value: -1.5, unit: 'kW' }] })) }, profile, dlt645DriverFactory as never);
    expect(report.problems).toEqual([]);
    expect(report.cases.length).toBe(polls.size);
    expect(report.cases.filter((c) => !c.ok).map((c) => [c.name, c.diff])).toEqual([]);
  });
});
