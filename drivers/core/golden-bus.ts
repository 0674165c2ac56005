import net from 'node:net';
import pino from 'pino';
import type { Reading } from '../../gateway/model/types.js';
import { BusLink } from './bus-link.js';
import { hexBytes, type GoldenDecoded, type GoldenDoc } from './golden.js';
import { scanFrame, type FrameLayout } from './meter-frame.js';

/**
 * Golden cases of a meter bus (DL/T 645, CJ/T 188): recorded exchanges (request bytes → reply
 * bytes, as a bus sniffer shows them) → the readings the device gives through its profile. A
 * replay server on loopback answers a request with the recorded reply only when the request
 * matches byte for byte, so a case also proves what the driver sends.
 *
 * ```yaml
 * profile: my-meter
 * cases:
 *   - name: …
 *     address: '000000000161'     # as on the meter's label
 *     options: { invert: true }    # device options, optional
 *     exchanges:
 *       - { request: 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16, reply: 68 61 … 16 }
 *     readings: [...]              # and/or samples: [...]
 * ```
 */
interface BusCase {
  address?: string;
  options?: Record<string, string | number | boolean>;
  exchanges?: { request: string; reply: string }[];
}

export interface BusMeter {
  poll(link: BusLink, o: { retries: number; timeoutMs: number; now: () => number }): Promise<Reading[]>;
}

/** When the readings were taken, for the samples (a replayed exchange has no clock of its own). */
export const BUS_GOLDEN_TS = Date.UTC(2024, 10, 22, 2, 0, 0);

async function replayServer(layout: FrameLayout, exchanges: readonly { request: string; reply: string }[], unexpected: string[]): Promise<net.Server> {
  const server = net.createServer((socket) => {
    let rx: Buffer = Buffer.alloc(0);
    socket.on('data', (d) => {
      rx = Buffer.concat([rx, d]);
      for (;;) {
        const r = scanFrame(rx, layout);
        if (r.kind === 'incomplete') return;
        rx = rx.subarray(r.end);
        if (r.kind !== 'frame') continue;
        const x = exchanges.find((e) => hexBytes(e.request).equals(r.frame));
        if (x) socket.write(hexBytes(x.reply));
        else unexpected.push(r.frame.toString('hex'));
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

export async function busGolden<P extends { classes: string[] }>(
  profile: P,
  doc: GoldenDoc,
  layout: FrameLayout,
  meter: (c: { id: string; address: string; options: Record<string, string | number | boolean> }, profile: P) => BusMeter,
): Promise<GoldenDecoded[]> {
  const out: GoldenDecoded[] = [];
  const cls = profile.classes[0] as string;
  for (const raw of doc.cases) {
    const c = raw as BusCase;
    const unexpected: string[] = [];
    const server = await replayServer(layout, c.exchanges ?? [], unexpected);
    const port = (server.address() as net.AddressInfo).port;
    const link = new BusLink({ kind: 'tcp', host: '127.0.0.1', port }, { gapMs: 0, reconnectMinMs: 50, reconnectMaxMs: 200, connectTimeoutMs: 1000 }, pino({ level: 'silent' }));
    await link.start();
    try {
      const readings = await meter({ id: 'golden', address: c.address ?? '', options: c.options ?? {} }, profile).poll(link, { retries: 0, timeoutMs: 500, now: () => BUS_GOLDEN_TS });
      const problems = unexpected.map((f) => `the driver sent ${f}, which the recording does not have`);
      out.push({ class: cls, device: 'golden', readings, events: [], ...(problems.length ? { problems } : {}) });
    } finally {
      await link.stop();
      await new Promise((r) => server.close(r));
    }
  }
  return out;
}
