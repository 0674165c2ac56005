import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeBcd } from '../../../drivers/core/bcd.js';
import { BusError, BusLink, type Awaited } from '../../../drivers/core/bus-link.js';
import * as dlt from '../../../drivers/dlt645/frame.js';
import { IDENTIFIERS_2007 } from '../../../drivers/dlt645/identifiers.js';
import { startMeterBus, type MeterBusServer } from '../../../simulators/servers/meter-bus.js';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const addr = (i: number) => `2024120000${String(i).padStart(2, '0')}`;

function energyRead(address: string): Awaited<number | undefined> {
  return {
    scan: dlt.scan,
    match: (frame) => {
      const r = dlt.readReply(frame, { address, di: '00010000', edition: '2007' });
      if (r.kind === 'mismatch') return { ok: false, why: r.why };
      if (r.kind === 'error_reply') return { ok: true, value: undefined };
      return { ok: true, value: decodeBcd(r.value, IDENTIFIERS_2007['00010000']!) };
    },
  };
}

async function bus(faults: Parameters<typeof startMeterBus>[1] = {}): Promise<{ server: MeterBusServer; link: BusLink }> {
  const meters = Array.from({ length: 30 }, (_, i) => ({ address: addr(i), edition: '2007' as const, read: (di: string) => (di === '00010000' ? 1000 + i + 0.25 : undefined) }));
  const server = await startMeterBus({ protocol: 'dlt645', meters }, faults);
  cleanups.push(() => server.close());
  const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port: server.port }, { gapMs: 0, reconnectMinMs: 50, reconnectMaxMs: 500, connectTimeoutMs: 1000 }, log);
  cleanups.push(() => link.stop());
  await link.start();
  return { server, link };
}

describe('a DL/T 645 bus through a serial-device server (TCP)', () => {
  it('reads 30 meters one at a time; a silent meter times out and its neighbours answer', async () => {
    const { link } = await bus({ faults: { silent: new Set([addr(7)]), wakeUp: 4 } });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => link.exchange(dlt.readRequest(addr(i), '00010000', '2007'), energyRead(addr(i)), 150)));
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as BusError).code));
    expect(values[7]).toBe('BUS_TIMEOUT');
    expect(values.filter((v, i) => i !== 7 && v === 1000 + i + 0.25)).toHaveLength(29);
    expect(link.counters).toMatchObject({ requests: 30, answers: 29, timeouts: 1, checksum: 0 });
  });

  it('counts a bad check byte by reason and never takes the frame for the answer', async () => {
    const { link } = await bus({ faults: { badChecksum: new Set([addr(3)]) } });
    await expect(link.exchange(dlt.readRequest(addr(3), '00010000', '2007'), energyRead(addr(3)), 150)).rejects.toMatchObject({ code: 'BUS_TIMEOUT' });
    expect(link.counters.checksum).toBe(1);
    expect(await link.exchange(dlt.readRequest(addr(4), '00010000', '2007'), energyRead(addr(4)), 150)).toBe(1004.25);
  });

  it('an error reply is an answer (no such data), not a timeout', async () => {
    const { link } = await bus();
    const awaited: Awaited<string> = {
      scan: dlt.scan,
      match: (f) => {
        const r = dlt.readReply(f, { address: addr(1), di: '02800002', edition: '2007' });
        return r.kind === 'mismatch' ? { ok: false, why: r.why } : { ok: true, value: r.kind === 'error_reply' ? r.meaning : 'value' };
      },
    };
    expect(await link.exchange(dlt.readRequest(addr(1), '02800002', '2007'), awaited, 150)).toBe('no such data');
  });

  it('finds the address of a lone meter with the wildcard read-address request', async () => {
    const server = await startMeterBus({ protocol: 'dlt645', meters: [{ address: '202412345678', edition: '2007', read: () => 1 }] });
    cleanups.push(() => server.close());
    const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port: server.port }, { gapMs: 0, reconnectMinMs: 50, reconnectMaxMs: 500, connectTimeoutMs: 1000 }, log);
    cleanups.push(() => link.stop());
    await link.start();
    const found = await link.exchange(dlt.readAddressRequest(), { scan: dlt.scan, match: (f) => { const a = dlt.addressReply(f); return a ? { ok: true, value: a } : { ok: false, why: 'not an address reply' }; } }, 150);
    expect(found).toBe('202412345678');
  });

  it('reconnects after the server drops the connection, failing the request in flight', async () => {
    const { server, link } = await bus({ faults: { silent: new Set([addr(0)]) } });
    const pending = link.exchange(dlt.readRequest(addr(0), '00010000', '2007'), energyRead(addr(0)), 2000);
    await new Promise((r) => setTimeout(r, 30));
    await server.close();
    await expect(pending).rejects.toMatchObject({ code: 'BUS_DISCONNECTED' });
    expect(link.state).not.toBe('connected');
  });
});

describe('a DL/T 645 meter on a real serial line (a pseudo-terminal pair, 2400 8E1)', () => {
  it('reads a meter through the serial port', async () => {
    const { spawn } = await import('node:child_process');
    const server = await startMeterBus({ protocol: 'dlt645', meters: [{ address: '000000000161', edition: '2007', read: () => 0.26 }] }, { faults: { wakeUp: 2 } });
    cleanups.push(() => server.close());
    const bridge = spawn('python3', [new URL('../../fixtures/pty-bridge.py', import.meta.url).pathname, String(server.port)], { stdio: ['pipe', 'pipe', 'inherit'] });
    cleanups.push(async () => {
      bridge.stdin.end();
      bridge.kill();
    });
    const path = await new Promise<string>((resolve, reject) => {
      bridge.stdout.once('data', (d: Buffer) => resolve(d.toString().trim()));
      bridge.once('exit', (code) => reject(new Error(`pty bridge exited ${code}`)));
    });
    expect(path).toMatch(/^\/dev\/pts\//);
    const link = new BusLink({ kind: 'serial', path, baud: 2400, parity: 'even', dataBits: 8, stopBits: 1 }, { gapMs: 0, reconnectMinMs: 50, reconnectMaxMs: 500, connectTimeoutMs: 1000 }, log);
    cleanups.push(() => link.stop());
    await link.start();
    expect(link.state).toBe('connected');
    expect(await link.exchange(dlt.readRequest('000000000161', '00010000', '2007'), energyRead('000000000161'), 1000)).toBe(0.26);
  });
});
