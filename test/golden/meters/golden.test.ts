import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../../gateway/model/types.js';
import { BusLink } from '../../../drivers/core/bus-link.js';
import { scanFrame, type FrameLayout } from '../../../drivers/core/meter-frame.js';
import { Cjt188Device } from '../../../drivers/cjt188/device.js';
import { LAYOUT as CJT_LAYOUT } from '../../../drivers/cjt188/frame.js';
import type { Cjt188Profile } from '../../../drivers/cjt188/profile-schema.js';
import { Dlt645Device } from '../../../drivers/dlt645/device.js';
import { LAYOUT as DLT_LAYOUT } from '../../../drivers/dlt645/frame.js';
import type { Dlt645Profile } from '../../../drivers/dlt645/profile-schema.js';
import { DRIVERS } from '../../../drivers/index.js';
import { loadProfiles } from '../../../gateway/site/profiles.js';
import { readGoldenFiles } from '../../helpers/golden.js';

/**
 * Golden cases of the meter drivers: recorded exchanges (request bytes → reply bytes, as a bus
 * sniffer shows them) → the readings the device gives through its profile. A replay server on
 * loopback answers each request with the recorded reply only if the request matches byte for byte,
 * so the case also proves what the driver sends.
 */
interface Case {
  name: string;
  address: string;
  options?: Record<string, string | number | boolean>;
  exchanges: { request: string; reply: string }[];
  readings: Omit<Reading, 'device' | 'ts'>[];
}

const hex = (s: string) => Buffer.from(s.replace(/#.*$/gm, '').replace(/\s+/g, ''), 'hex');
const files = readGoldenFiles<{ profile: string; cases: Case[] }>(fileURLToPath(new URL('.', import.meta.url)));
const { profiles } = loadProfiles(DRIVERS);
const servers: net.Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

async function replay(layout: FrameLayout, exchanges: Case['exchanges'], unexpected: string[]): Promise<number> {
  const server = net.createServer((socket) => {
    let rx: Buffer = Buffer.alloc(0);
    socket.on('data', (d) => {
      rx = Buffer.concat([rx, d]);
      for (;;) {
        const r = scanFrame(rx, layout);
        if (r.kind === 'incomplete') return;
        rx = rx.subarray(r.end);
        if (r.kind !== 'frame') continue;
        const x = exchanges.find((e) => hex(e.request).equals(r.frame));
        if (x) socket.write(hex(x.reply));
        else unexpected.push(r.frame.toString('hex'));
      }
    });
    socket.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

describe.each(files.map((f) => [f.file, f] as const))('%s', (_file, f) => {
  it.each(f.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const profile = profiles.get(f.profile);
    if (!profile) throw new Error(`no profile ${f.profile}`);
    const layout = profile.protocol === 'dlt645' ? DLT_LAYOUT : CJT_LAYOUT;
    const unexpected: string[] = [];
    const port = await replay(layout, c.exchanges, unexpected);
    const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port }, { gapMs: 0, reconnectMinMs: 50, reconnectMaxMs: 200, connectTimeoutMs: 1000 }, pino({ level: 'silent' }));
    await link.start();
    try {
      const device =
        profile.protocol === 'dlt645'
          ? new Dlt645Device({ id: 'golden', address: c.address, options: c.options ?? {} }, profile as unknown as Dlt645Profile)
          : new Cjt188Device({ id: 'golden', address: c.address }, profile as unknown as Cjt188Profile);
      const readings = await device.poll(link, { retries: 0, timeoutMs: 500, now: () => 0 });
      expect(unexpected, 'requests the recording does not have').toEqual([]);
      const got = readings.map(({ device: _d, ts: _t, ...r }) => r).sort((a, b) => a.metric.localeCompare(b.metric));
      expect(got).toEqual(c.readings);
    } finally {
      await link.stop();
    }
  });
});
