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
import { Cjt188Device } from '../../../drivers/cjt188/device.js';
import { cjt188ProfileSchema } from '../../../drivers/cjt188/profile-schema.js';
import { encodeBcd } from '../../../drivers/core/bcd.js';
import { startMeterBus, type Cjt188MeterSim, type Dlt645MeterSim } from '../../../simulators/servers/meter-bus.js';

/**
 * Commands to meters on an RS-485 bus, over TCP to the simulated bus. DL/T 645-2007: the load relay
 * (C = 0x1C) tripped and closed with the meter's password and read back from status word 3; a wrong
 * password is the meter's 0xDC refusal; a welded relay answers 0x9C and the read-back shows it still
 * closed. CJ/T 188: the water valve (C = 0x04, DI A017) closed and opened, read back from ST.
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

describe('meter commands against the simulated buses', () => {
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

  it('CJ/T 188: closes and opens the valve, read back from the status word of a metering read; a seized valve reads back unchanged', async () => {
    const body = () => Buffer.concat([encodeBcd(123.45, 4, { decimals: 2 }), Buffer.from([0x2c]), encodeBcd(3.2, 4, { decimals: 2 }), Buffer.from([0x2c]), Buffer.from([0, 0, 12, 3, 12, 0x26, 0x20]), Buffer.from([0, 0])]);
    const sim = (address: string, valve: Cjt188MeterSim['valve']): Cjt188MeterSim => ({ address, type: 0x10, body, valve });
    const meters = [sim('12345678000001', { closed: false, operations: 0 }), sim('12345678000002', { closed: false, ignore: true, operations: 0 })];
    const server = await startMeterBus({ protocol: 'cjt188', meters }, { faults: { wakeUp: 4 } });
    cleanups.push(() => server.close());
    const p = cjt188ProfileSchema.parse(parse(fs.readFileSync(new URL('../../../drivers/profiles/cjt188-water-meter.yaml', import.meta.url), 'utf8')));
    const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port: server.port }, { gapMs: 5, reconnectMinMs: 100, reconnectMaxMs: 1000, connectTimeoutMs: 1000 }, ctx.log);
    const dev = (i: number) => new Cjt188Device({ id: `wm-${i}`, class: 'water_meter', address: `1234567800000${i}`, poll: 600_000 }, p);
    const driver = new MeterBusDriver('bus-w', 'cjt188', link, [dev(1), dev(2)], { timeoutMs: 500, retries: 0, quarantineMinMs: 5000, quarantineMaxMs: 60000 }, ctx);
    cleanups.push(() => driver.stop());
    await driver.start();

    expect(await driver.command({ device: 'wm-1', command: 'valve', value: 'closed' })).toEqual({ readBack: 'closed' });
    expect(meters[0]?.valve).toMatchObject({ closed: true, operations: 1 });
    expect(await driver.command({ device: 'wm-1', command: 'valve', value: 'open' })).toEqual({ readBack: 'open' });
    expect(meters[0]?.valve).toMatchObject({ closed: false, operations: 2 });
    expect(await driver.command({ device: 'wm-2', command: 'valve', value: 'closed' })).toEqual({ readBack: 'open' });
  });
});
