import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeBcd } from '../../../drivers/core/bcd.js';
import { startMeterBus, type MeterBusServer } from '../../../simulators/servers/meter-bus.js';
import { tempDir } from '../../helpers/peers.js';

/**
 * `fcgw explain --probe <connection>` on a bus of meters: the wildcard read finds the address of
 * the one meter on the bus (a meter whose label is painted over); two meters answering collide,
 * and the command says so with exit 1. Then `--probe <device>` reads the meter it found.
 */
const BIN = join(import.meta.dirname, '../../../bin/fcgw.js');
const run = (args: string[]) =>
  promisify(execFile)(process.execPath, [BIN, ...args], { encoding: 'utf8' }).then(
    (r) => ({ code: 0, stdout: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, stdout: e.stdout }),
  );

const tmp = tempDir('fcgw-meter-probe-');
const servers: MeterBusServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  tmp.cleanup();
});

async function config(name: string, lines: string): Promise<string> {
  const file = join(tmp.dir, `${name}.yaml`);
  writeFileSync(file, `version: 1\nsite: { id: probe }\nstore: { path: ${join(tmp.dir, `${name}.db`)} }\n${lines}`);
  return file;
}

describe('fcgw explain --probe on a meter bus', () => {
  it('finds the address of a lone DL/T 645 meter, then reads it by that address', async () => {
    const bus = await startMeterBus({ protocol: 'dlt645', meters: [{ address: '202401234567', edition: '2007', read: (di) => (di === '02030000' ? 3.5 : 1234.56) }] });
    servers.push(bus);
    const file = await config('dlt', `connections: [{ id: bus-e, protocol: dlt645, host: 127.0.0.1, port: ${bus.port}, timeout: 300ms }]\ndevices: [{ id: em-1, class: grid_meter, connection: bus-e, address: "202401234567", profile: dlt645-meter }]\n`);
    const found = await run(['explain', '-c', file, 'bus-e', '--probe']);
    expect(found.code).toBe(0);
    expect(found.stdout).toContain('address 202401234567');
    const read = await run(['explain', '-c', file, 'em-1', '--probe']);
    expect(read.code).toBe(0);
    expect(read.stdout).toContain('02030000 → power');
    expect(read.stdout).toMatch(/probe: the device answered; 3 values/);
  }, 20_000);

  it('says two meters collided (exit 1) rather than guess', async () => {
    const bus = await startMeterBus({ protocol: 'dlt645', meters: [{ address: '202401234567', edition: '2007', read: () => 1 }, { address: '202401234568', edition: '2007', read: () => 1 }] });
    servers.push(bus);
    const file = await config('two', `connections: [{ id: bus-e, protocol: dlt645, host: 127.0.0.1, port: ${bus.port}, timeout: 300ms }]\n`);
    const r = await run(['explain', '-c', file, 'bus-e', '--probe']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/no meter answered|collided/);
  }, 20_000);

  it('finds a lone CJ/T 188 water meter', async () => {
    const q = Buffer.concat([encodeBcd(12.5, 4, { decimals: 2 }), Buffer.from([0x2c])]);
    const bus = await startMeterBus({ protocol: 'cjt188', meters: [{ address: '78330011223344', type: 0x10, body: () => Buffer.concat([q, q, Buffer.from('00301203122620', 'hex'), Buffer.from([0, 0])]) }] });
    servers.push(bus);
    const file = await config('cjt', `connections: [{ id: bus-w, protocol: cjt188, host: 127.0.0.1, port: ${bus.port}, timeout: 300ms }]\n`);
    const r = await run(['explain', '-c', file, 'bus-w', '--probe']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('address 78330011223344');
  }, 20_000);
});
