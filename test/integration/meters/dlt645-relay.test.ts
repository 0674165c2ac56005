import fs from 'node:fs';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { systemClock } from '../../../gateway/model/clock.js';
import { BusLink } from '../../../drivers/core/bus-link.js';
import type { DriverContext } from '../../../drivers/core/driver.js';
import { MeterBusDriver } from '../../../drivers/core/meter-bus-driver.js';
import { Dlt645Device } from '../../../drivers/dlt645/device.js';
import { dlt645ProfileSchema } from '../../../drivers/dlt645/profile-schema.js';
import { startMeterBus, type Dlt645MeterSim } from '../../../simulators/servers/meter-bus.js';

/**
 * The DL/T 645-2007 meter's load relay as a command (C = 0x1C), over TCP to the simulated bus:
 * tripped and closed with the meter's password and read back from status word 3; a wrong password
 * is the meter's 0xDC refusal; a welded relay answers 0x9C and the read-back shows it still closed.
 */

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const ctx: DriverContext = {
  site: 'test',
  clock: systemClock,
  log: pino({ level: 'silent' }),
  dataDir: '/tmp',
  ingest: async () => undefined,
  reject: () => undefined,
  metrics: { pollLatency: () => undefined, linkError: () => undefined, messages: () => undefined },
};

describe('DL/T 645 relay commands against the simulated meters', () => {
  it('trips and closes with the password, read back from status word 3; a wrong password and a welded relay are told apart', async () => {
    const sim = (address: string, relay: Dlt645MeterSim['relay']): Dlt645MeterSim => ({ address, edition: '2007', read: (di) => (di === '02030000' ? 1.5 : di.startsWith('000') ? 100 : undefined), relay });
    const meters = [
      sim('330100000001', { open: false, password: '123456', operations: 0 }),
      sim('330100000002', { open: false, password: '123456', operations: 0 }),
      sim('330100000003', { open: false, password: '123456', ignore: true, operations: 0 }),
    ];
    const server = await startMeterBus({ protocol: 'dlt645', meters }, { faults: { wakeUp: 4 } });
    cleanups.push(() => server.close());
    const p = dlt645ProfileSchema.parse(parse(fs.readFileSync(new URL('../../../drivers/profiles/dlt645-meter.yaml', import.meta.url), 'utf8')));
    const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port: server.port }, { gapMs: 5, reconnectMinMs: 100, reconnectMaxMs: 1000, connectTimeoutMs: 1000 }, ctx.log);
    const dev = (i: number, password: string) => new Dlt645Device({ id: `em-${i}`, class: 'grid_meter', address: `33010000000${i}`, poll: 60_000, options: { password, operator: 'AB12CD34' } }, p);
    const driver = new MeterBusDriver('bus-e', 'dlt645', link, [dev(1, '123456'), dev(2, '654321'), dev(3, '123456')], { timeoutMs: 500, retries: 0, quarantineMinMs: 5000, quarantineMaxMs: 60000 }, ctx);
    cleanups.push(() => driver.stop());
    await driver.start();

    expect(await driver.command({ device: 'em-1', command: 'relay', value: 'off' })).toEqual({ readBack: 'off' });
    expect(meters[0]?.relay).toMatchObject({ open: true, operations: 1 });
    expect(await driver.command({ device: 'em-1', command: 'relay', value: 'on' })).toEqual({ readBack: 'on' });
    expect(meters[0]?.relay).toMatchObject({ open: false, operations: 2 });

    await expect(driver.command({ device: 'em-2', command: 'relay', value: 'off' })).rejects.toMatchObject({ code: 'DLT645_REFUSED', message: expect.stringContaining('wrong password') });
    expect(meters[1]?.relay?.open).toBe(false);

    // Answered 0x9C, still closed: the control service compares `on` with `off` (READBACK_MISMATCH).
    expect(await driver.command({ device: 'em-3', command: 'relay', value: 'off' })).toEqual({ readBack: 'on' });
  });
});
